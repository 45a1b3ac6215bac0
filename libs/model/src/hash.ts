import xxhash from 'xxhash-wasm';
import { labelsKey, type Labels } from './labels.js';

const hasher = await xxhash();

/**
 * A stable 64-bit hash of a label set (xxHash64 of its canonical key), as 16 lowercase hex digits.
 * Computed once per series; it places the series in a shard and keys it on Kafka.
 */
export function labelsHash(labels: Labels): string {
  return hasher.h64ToString(labelsKey(labels));
}

/** Which of `n` shards a series hash falls in; uses the low 32 bits so no BigInt is needed. */
export function shardOf(hash: string, n: number): number {
  return parseInt(hash.slice(8), 16) % n;
}
