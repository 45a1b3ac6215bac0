export * from './ingester.js';
export * from './grpc.js';
