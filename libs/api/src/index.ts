export * from './errors.js';
export * from './params.js';
export * from './json.js';
export * from './server.js';
export * from './grpc-query.js';
export * from './remote-routes.js';
export * from './limiter.js';
export * from './query-flags.js';
