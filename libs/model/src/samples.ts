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
  private readonly series: Labels[] = [];
  private readonly hashes: string[] = [];
  private refs = new Uint32Array(64);
  private ts = new Float64Array(64);
  private vals = new Float64Array(64);
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** Adds a series and returns its index, to be passed to `add`. */
  addSeries(labels: Labels, hash: string = labelsHash(labels)): number {
    this.series.push(labels);
    this.hashes.push(hash);
    return this.series.length - 1;
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
    return {
      series: this.series,
      hashes: this.hashes,
      refs: this.refs.slice(0, this.n),
      timestamps: this.ts.slice(0, this.n),
      values: this.vals.slice(0, this.n),
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

/** Splits a batch by the partition (shard) of each series, keeping sample order within each. */
export function splitByPartition(batch: SampleBatch, n: number): Array<SampleBatch | undefined> {
  const builders: Array<SampleBatchBuilder | undefined> = new Array(n);
  const seriesIndex: Array<Map<number, number> | undefined> = new Array(n);
  const partOfSeries = batch.hashes.map((h) => shardOf(h, n));
  for (let i = 0; i < batch.refs.length; i++) {
    const ref = batch.refs[i];
    const p = partOfSeries[ref];
    let b = builders[p];
    let idx = seriesIndex[p];
    if (!b || !idx) {
      b = builders[p] = new SampleBatchBuilder();
      idx = seriesIndex[p] = new Map();
    }
    let local = idx.get(ref);
    if (local === undefined) {
      local = b.addSeries(batch.series[ref], batch.hashes[ref]);
      idx.set(ref, local);
    }
    b.add(local, batch.timestamps[i], batch.values[i]);
  }
  return builders.map((b) => b?.build());
}
