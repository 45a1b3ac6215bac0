export * from './serve-ui.js';
