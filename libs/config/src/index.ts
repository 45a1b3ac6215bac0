export * from './duration.js';
export * from './yaml-decode.js';
export * from './prometheus.js';
export * from './http-client.js';
export * from './sd.js';
export * from './listen-address.js';
export * from './glob.js';
export * from './web-config.js';
