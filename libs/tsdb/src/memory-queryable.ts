import { labelsFrom, type LabelMatcher, type Labels } from '@pharos/model';
import type { Queryable, SeriesData } from './queryable.js';

/** Series held in arrays, for engine tests and the conformance runner. */
export class MemoryQueryable implements Queryable {
  private readonly data: Array<{ labels: Labels; ts: number[]; vs: Float64Array; n: number }> = [];

  add(
    labels: Labels | Record<string, string>,
    timestamps: readonly number[],
    values: ArrayLike<number>,
  ): void {
    const ls = Array.isArray(labels) ? (labels as Labels) : labelsFrom(labels as Record<string, string>);
    const vs = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) vs[i] = values[i];
    const existing = this.data.find(
      (d) =>
        d.labels.length === ls.length &&
        d.labels.every((l, i) => l.name === ls[i].name && l.value === ls[i].value),
    );
    if (existing) {
      const ts = existing.ts.concat(timestamps);
      const merged = new Float64Array(existing.n + vs.length);
      merged.set(existing.vs.subarray(0, existing.n));
      merged.set(vs, existing.n);
      const order = ts.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0]);
      existing.ts = order.map(([t]) => t);
      const sorted = new Float64Array(order.length);
      order.forEach(([, i], k) => (sorted[k] = merged[i]));
      existing.vs = sorted;
      existing.n = sorted.length;
      return;
    }
    this.data.push({ labels: ls, ts: [...timestamps], vs, n: vs.length });
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
      while (lo < d.n && d.ts[lo] < mint) lo++;
      let hi = lo;
      while (hi < d.n && d.ts[hi] <= maxt) hi++;
      if (hi > lo)
        out.push({
          labels: d.labels,
          timestamps: Float64Array.from(d.ts.slice(lo, hi)),
          values: d.vs.slice(lo, hi),
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
