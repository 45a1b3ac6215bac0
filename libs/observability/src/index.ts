export * from './logger.js';
export * from './metrics.js';
export * from './build-info.js';
export * from './lifecycle.js';
export * from './role.js';
export * from './role-server.js';
export * from './role-cli.js';
export * from './role-runtime.js';
