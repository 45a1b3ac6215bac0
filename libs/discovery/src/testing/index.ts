export * from './fake-consul.js';
