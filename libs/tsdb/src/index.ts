export * from './chunkenc/xor.js';
export * from './db.js';
export * from './postings.js';
export * from './queryable.js';
export * from './memory-queryable.js';
export * from './sharded.js';
export * from './backfill.js';
export * from './analyze.js';
