export * from './log.js';
export * from './in-process-log.js';
export * from './sample-bus.js';
export * from './file-log.js';
export * from './kafka-log.js';
export * from './buffered-publisher.js';
export * from './sample-topic.js';
export * from './alert-bus.js';
