export * from './regex.js';
