import { labelsKey, type LabelMatcher, type Labels } from '@pharos/model';
import { sortedUnion, type Queryable, type SeriesData } from './queryable.js';

/**
 * Several stores read as one: the querier over every ingester. Shards hold disjoint series and
 * are simply concatenated; replicas (two ingester groups on the same partitions) hold the same
 * series, which are merged sample by sample, a timestamp present in both kept once.
 */
export class FanoutQueryable implements Queryable {
  constructor(private stores: readonly Queryable[]) {}

  /** Membership changed: later reads go to these stores (reads under way keep theirs). */
  setStores(stores: readonly Queryable[]): void {
    this.stores = stores;
  }

  async select(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<SeriesData[]> {
    const parts = await Promise.all(this.stores.map((s) => s.select(matchers, mint, maxt, signal)));
    const byKey = new Map<string, SeriesData>();
    for (const list of parts) {
      for (const s of list) {
        const key = labelsKey(s.labels);
        const seen = byKey.get(key);
        byKey.set(key, seen ? mergeSamples(seen, s) : s);
      }
    }
    return [...byKey.values()];
  }

  async series(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Labels[]> {
    const parts = await Promise.all(this.stores.map((s) => s.series(matchers, mint, maxt, signal)));
    const byKey = new Map<string, Labels>();
    for (const list of parts) for (const l of list) byKey.set(labelsKey(l), l);
    return [...byKey.values()];
  }

  async labelNames(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    return sortedUnion(await Promise.all(this.stores.map((s) => s.labelNames(matchers, mint, maxt, signal))));
  }

  async labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    return sortedUnion(
      await Promise.all(this.stores.map((s) => s.labelValues(name, matchers, mint, maxt, signal))),
    );
  }
}

/** Two copies of a series merged in timestamp order; where both have a timestamp, the first wins. */
export function mergeSamples(a: SeriesData, b: SeriesData): SeriesData {
  const n = a.timestamps.length + b.timestamps.length;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const withStart = a.startTimestamps !== undefined || b.startTimestamps !== undefined;
  const st = withStart ? new Float64Array(n) : undefined;
  let i = 0;
  let j = 0;
  let k = 0;
  const take = (s: SeriesData, x: number) => {
    ts[k] = s.timestamps[x];
    vs[k] = s.values[x];
    if (st) st[k] = s.startTimestamps?.[x] ?? 0;
    k++;
  };
  while (i < a.timestamps.length || j < b.timestamps.length) {
    if (j >= b.timestamps.length || (i < a.timestamps.length && a.timestamps[i] <= b.timestamps[j])) {
      if (j < b.timestamps.length && a.timestamps[i] === b.timestamps[j]) j++;
      take(a, i++);
    } else {
      take(b, j++);
    }
  }
  return {
    labels: a.labels,
    timestamps: ts.subarray(0, k),
    values: vs.subarray(0, k),
    ...(st ? { startTimestamps: st.subarray(0, k) } : {}),
  };
}
