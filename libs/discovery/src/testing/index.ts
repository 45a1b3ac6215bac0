export * from './fake-consul.js';
export * from './eventually.js';
