export * from './prompb.js';
export * from './snappy.js';
