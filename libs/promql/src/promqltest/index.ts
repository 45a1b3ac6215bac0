export * from './testfile.js';
export * from './runner.js';
