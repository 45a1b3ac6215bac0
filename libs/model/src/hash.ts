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
  if (hash.length !== 16) return parseInt(hash.slice(8), 16) % n;
  // The hex digits read in place: this runs for every series of every batch.
  let v = 0;
  for (let i = 8; i < 16; i++) {
    const c = hash.charCodeAt(i);
    v = v * 16 + (c <= 57 ? c - 48 : (c | 0x20) - 87);
  }
  return v % n;
}

const utf8 = new TextEncoder();

/**
 * Prometheus' own labels.Hash(): xxHash64 over `name 0xff value 0xff` for each label. Where
 * results must agree with Prometheus bit for bit (limit_ratio's sampling) this is the one to use.
 */
export function prometheusLabelsHash(labels: Labels): bigint {
  const parts = labels.map((l) => [utf8.encode(l.name), utf8.encode(l.value)] as const);
  let n = 0;
  for (const [a, b] of parts) n += a.length + b.length + 2;
  const buf = new Uint8Array(n);
  let o = 0;
  for (const [a, b] of parts) {
    buf.set(a, o);
    o += a.length;
    buf[o++] = 0xff;
    buf.set(b, o);
    o += b.length;
    buf[o++] = 0xff;
  }
  return hasher.h64Raw(buf);
}
