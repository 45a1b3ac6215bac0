export * from './relabel.js';
