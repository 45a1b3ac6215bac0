export * from './errors.js';
export * from './float.js';
export * from './parser.js';
export * from './content-type.js';
