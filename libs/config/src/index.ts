export * from './duration.js';
export * from './yaml-decode.js';
export * from './prometheus.js';
