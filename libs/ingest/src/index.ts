export * from './ingester.js';
export * from './grpc.js';
export * from './ingester-set.js';
export * from './admin.js';
export * from './storage-flags.js';
export * from './retention.js';
export * from './ownership.js';
