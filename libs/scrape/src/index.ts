export * from './target.js';
export * from './http.js';
export * from './loop.js';
export * from './manager.js';
