export * from './gen/pharos/v1/ingester.generated.js';
export * from './sample-batch.js';
