export * from './rule-file.js';
export * from './template-data.js';
export * from './rules.js';
export * from './group.js';
export * from './manager.js';
export * from './notifier.js';
export * from './query.js';
export * from './unittest.js';
