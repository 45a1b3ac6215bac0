export * from './ingester.js';
