export * from './labels.js';
export * from './hash.js';
export * from './samples.js';
export * from './value.js';
export * from './matcher.js';
export * from './histogram.js';
export * from './labels-slot.js';
export * from './time-slice.js';
