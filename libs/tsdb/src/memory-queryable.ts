import { labelsFrom, type FloatHistogram, type LabelMatcher, type Labels } from '@pharos/model';
import type { Queryable, SeriesData } from './queryable.js';

/** Series held in arrays, for engine tests and the conformance runner. */
export class MemoryQueryable implements Queryable {
  private readonly data: Array<{
    labels: Labels;
    ts: number[];
    vs: Float64Array;
    sts: number[] | null;
    hs: Array<FloatHistogram | undefined> | null;
  }> = [];

  /**
   * Adds samples to a series, merging by timestamp with what it holds. `startTimestamps`
   * (0 = unknown) gives each sample's start time, for the engine's start-timestamp support.
   * `histograms[i]`, where set, makes sample i a native histogram.
   */
  add(
    labels: Labels | Record<string, string>,
    timestamps: readonly number[],
    values: ArrayLike<number>,
    startTimestamps?: ArrayLike<number>,
    histograms?: ReadonlyArray<FloatHistogram | undefined>,
  ): void {
    const ls = Array.isArray(labels) ? (labels as Labels) : labelsFrom(labels as Record<string, string>);
    let d = this.data.find(
      (x) =>
        x.labels.length === ls.length &&
        x.labels.every((l, i) => l.name === ls[i].name && l.value === ls[i].value),
    );
    if (!d) {
      d = { labels: ls, ts: [], vs: new Float64Array(0), sts: null, hs: null };
      this.data.push(d);
    }
    const n = d.ts.length;
    const ts = d.ts.concat(timestamps);
    // Values stay in Float64Arrays throughout: plain arrays may not keep the staleness NaN's payload.
    const vs = new Float64Array(ts.length);
    vs.set(d.vs);
    for (let i = 0; i < timestamps.length; i++) vs[n + i] = values[i];
    const sts =
      d.sts || startTimestamps
        ? (d.sts ?? d.ts.map(() => 0)).concat(
            Array.from({ length: timestamps.length }, (_, i) => startTimestamps?.[i] ?? 0),
          )
        : null;
    const hs =
      d.hs || histograms
        ? (d.hs ?? d.ts.map(() => undefined)).concat(
            Array.from({ length: timestamps.length }, (_, i) => histograms?.[i]),
          )
        : null;
    // Stable, so a sample added later at the same time stays after the earlier one.
    const order = ts.map((_, i) => i).sort((a, b) => ts[a] - ts[b]);
    d.ts = order.map((i) => ts[i]);
    d.vs = new Float64Array(order.length);
    order.forEach((i, k) => (d.vs[k] = vs[i]));
    d.sts = sts ? order.map((i) => sts[i]) : null;
    d.hs = hs ? order.map((i) => hs[i]) : null;
  }

  clear(): void {
    this.data.length = 0;
  }

  private matching(matchers: readonly LabelMatcher[]) {
    return this.data.filter((d) =>
      matchers.every((m) => m.matches(d.labels.find((l) => l.name === m.name)?.value ?? '')),
    );
  }

  async select(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<SeriesData[]> {
    const out: SeriesData[] = [];
    for (const d of this.matching(matchers)) {
      let lo = 0;
      while (lo < d.ts.length && d.ts[lo] < mint) lo++;
      let hi = lo;
      while (hi < d.ts.length && d.ts[hi] <= maxt) hi++;
      if (hi > lo)
        out.push({
          labels: d.labels,
          timestamps: Float64Array.from(d.ts.slice(lo, hi)),
          values: d.vs.slice(lo, hi),
          ...(d.sts ? { startTimestamps: Float64Array.from(d.sts.slice(lo, hi)) } : {}),
          ...(d.hs ? { histograms: d.hs.slice(lo, hi) } : {}),
        });
    }
    return out;
  }

  async series(matchers: readonly LabelMatcher[]): Promise<Labels[]> {
    return this.matching(matchers).map((d) => d.labels);
  }

  async labelNames(matchers: readonly LabelMatcher[]): Promise<string[]> {
    return [...new Set(this.matching(matchers).flatMap((d) => d.labels.map((l) => l.name)))].sort();
  }

  async labelValues(name: string, matchers: readonly LabelMatcher[]): Promise<string[]> {
    return [
      ...new Set(
        this.matching(matchers)
          .map((d) => d.labels.find((l) => l.name === name)?.value ?? '')
          .filter((v) => v !== ''),
      ),
    ].sort();
  }
}
