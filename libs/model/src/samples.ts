/**
 * How far ahead of the wall clock a sample may be where it enters (remote write, a scrape's own
 * timestamps), as upstream's maxAheadTime: later ones are refused as out of bounds.
 */
export const MAX_AHEAD_MS = 10 * 60_000;

import { labelsHash, shardOf } from './hash.js';
import type { Labels } from './labels.js';

/**
 * Samples as they travel from the write path to storage: series listed once, samples as parallel
 * typed arrays pointing at them. Timestamps are integer milliseconds held exactly in a Float64Array.
 */
export interface SampleBatch {
  readonly series: readonly Labels[];
  /** labelsHash of each entry of `series`. */
  readonly hashes: readonly string[];
  /** For each sample, its index into `series`. */
  readonly refs: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export class SampleBatchBuilder {
  private readonly series: Labels[];
  private readonly hashes: string[];
  private nSeries = 0;
  private refs: Uint32Array;
  private ts: Float64Array;
  private vals: Float64Array;
  private n = 0;

  /**
   * `capacity`: the expected sample count (a scrape's last size). Arrays sized up front, since
   * growing a 100k-entry array by pushes copies it several times on every scrape.
   */
  constructor(capacity = 64) {
    const c = Math.max(1, capacity);
    this.series = new Array<Labels>(c);
    this.hashes = new Array<string>(c);
    this.refs = new Uint32Array(c);
    this.ts = new Float64Array(c);
    this.vals = new Float64Array(c);
  }

  get length(): number {
    return this.n;
  }

  /** Adds a series and returns its index, to be passed to `add`. */
  addSeries(labels: Labels, hash: string = labelsHash(labels)): number {
    this.series[this.nSeries] = labels;
    this.hashes[this.nSeries] = hash;
    return this.nSeries++;
  }

  add(seriesIndex: number, timestamp: number, value: number): void {
    if (this.n === this.refs.length) this.grow();
    this.refs[this.n] = seriesIndex;
    this.ts[this.n] = timestamp;
    this.vals[this.n] = value;
    this.n++;
  }

  /** A one-sample-per-series shortcut, the common case of a scrape. */
  push(labels: Labels, timestamp: number, value: number, hash?: string): void {
    this.add(this.addSeries(labels, hash), timestamp, value);
  }

  build(): SampleBatch {
    this.series.length = this.nSeries;
    this.hashes.length = this.nSeries;
    return {
      series: this.series,
      hashes: this.hashes,
      // Views, not copies: the builder is done once built.
      refs: this.refs.subarray(0, this.n),
      timestamps: this.ts.subarray(0, this.n),
      values: this.vals.subarray(0, this.n),
    };
  }

  private grow(): void {
    const cap = this.refs.length * 2;
    const r = new Uint32Array(cap);
    r.set(this.refs);
    this.refs = r;
    const t = new Float64Array(cap);
    t.set(this.ts);
    this.ts = t;
    const v = new Float64Array(cap);
    v.set(this.vals);
    this.vals = v;
  }
}

/**
 * Builds one batch per partition (shard) as samples come, for a producer that knows, or can
 * remember, each series' partition: a scrape of 100k series is otherwise built as one batch and
 * copied apart again by `splitByPartition` on every scrape.
 */
export class PartitionedBatchBuilder {
  private readonly parts: SampleBatchBuilder[];

  /** `capacity`: the expected sample count of all partitions together. */
  constructor(
    readonly partitions: number,
    capacity = 64,
  ) {
    // Hashes spread series evenly but not exactly; the slack keeps the columns from doubling.
    const each = partitions === 1 ? capacity : Math.ceil((capacity / partitions) * 1.1) + 16;
    this.parts = Array.from({ length: partitions }, () => new SampleBatchBuilder(each));
  }

  get length(): number {
    let n = 0;
    for (const b of this.parts) n += b.length;
    return n;
  }

  /** `partition` must be `shardOf(hash, partitions)`; it is computed when not given. */
  push(
    labels: Labels,
    timestamp: number,
    value: number,
    hash = labelsHash(labels),
    partition?: number,
  ): void {
    this.parts[partition ?? shardOf(hash, this.partitions)].push(labels, timestamp, value, hash);
  }

  /** Entry p holds the samples of partition p, or is undefined when it has none. */
  build(): Array<SampleBatch | undefined> {
    return this.parts.map((b) => (b.length > 0 ? b.build() : undefined));
  }
}

/**
 * Splits a batch by the partition (shard) of each series, keeping sample order within each.
 * Two passes over typed arrays: a scrape of 100k series goes through here on every scrape.
 */
export function splitByPartition(batch: SampleBatch, n: number): Array<SampleBatch | undefined> {
  if (n === 1) return [batch];
  const nSeries = batch.series.length;
  const partOf = new Uint32Array(nSeries);
  const localOf = new Uint32Array(nSeries);
  const seriesCounts = new Uint32Array(n);
  for (let i = 0; i < nSeries; i++) {
    const p = shardOf(batch.hashes[i], n);
    partOf[i] = p;
    localOf[i] = seriesCounts[p]++;
  }
  // Exact sizes, not pushes: these arrays are tens of thousands long on every scrape.
  const series: Labels[][] = Array.from({ length: n }, (_, p) => new Array<Labels>(seriesCounts[p]));
  const hashes: string[][] = Array.from({ length: n }, (_, p) => new Array<string>(seriesCounts[p]));
  for (let i = 0; i < nSeries; i++) {
    series[partOf[i]][localOf[i]] = batch.series[i];
    hashes[partOf[i]][localOf[i]] = batch.hashes[i];
  }
  const counts = new Uint32Array(n);
  for (let i = 0; i < batch.refs.length; i++) counts[partOf[batch.refs[i]]]++;
  const out: Array<SampleBatch | undefined> = new Array(n);
  const fill = new Uint32Array(n);
  for (let p = 0; p < n; p++) {
    if (counts[p] === 0) continue;
    out[p] = {
      series: series[p],
      hashes: hashes[p],
      refs: new Uint32Array(counts[p]),
      timestamps: new Float64Array(counts[p]),
      values: new Float64Array(counts[p]),
    };
  }
  for (let i = 0; i < batch.refs.length; i++) {
    const ref = batch.refs[i];
    const p = partOf[ref];
    const b = out[p] as SampleBatch;
    const j = fill[p]++;
    b.refs[j] = localOf[ref];
    b.timestamps[j] = batch.timestamps[i];
    b.values[j] = batch.values[i];
  }
  return out;
}

/**
 * Cuts a batch into runs of consecutive samples touching at most `maxSeries` series and holding
 * at most `maxSamples` samples, each a batch of its own, in order. Timestamps and values are
 * views of the original columns; a series sampled in several runs is listed in each.
 */
export function chunkBatch(batch: SampleBatch, maxSeries: number, maxSamples: number): SampleBatch[] {
  const total = batch.refs.length;
  if (batch.series.length <= maxSeries && total <= maxSamples) return [batch];
  const chunkOf = new Int32Array(batch.series.length).fill(-1);
  const localOf = new Uint32Array(batch.series.length);
  const out: SampleBatch[] = [];
  let start = 0;
  let series: Labels[] = [];
  let hashes: string[] = [];
  const refs = new Uint32Array(Math.min(total, maxSamples));
  const close = (end: number) => {
    out.push({
      series,
      hashes,
      refs: refs.slice(0, end - start),
      timestamps: batch.timestamps.subarray(start, end),
      values: batch.values.subarray(start, end),
    });
    start = end;
    series = [];
    hashes = [];
  };
  for (let i = 0; i < total; i++) {
    const ref = batch.refs[i];
    const isNew = chunkOf[ref] !== out.length;
    if (i - start === maxSamples || (isNew && series.length === maxSeries)) close(i);
    if (chunkOf[ref] !== out.length) {
      chunkOf[ref] = out.length;
      localOf[ref] = series.length;
      series.push(batch.series[ref]);
      hashes.push(batch.hashes[ref]);
    }
    refs[i - start] = localOf[ref];
  }
  if (total > start) close(total);
  return out;
}
