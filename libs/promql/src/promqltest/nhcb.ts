// `load_with_nhcb`: classic histogram series (`_bucket` with `le`, `_count`, `_sum`) also become
// native histograms with custom buckets under the base name, one per time they have samples.
import { classicToCustomBuckets, labelsKey, type FloatHistogram, type Labels } from '@pharos/model';
import type { SeriesLine } from './testfile.js';

interface Pending {
  labels: Labels;
  byTime: Map<number, { buckets: Array<{ le: number; cumulative: number }>; count?: number; sum?: number }>;
}

export interface ConvertedSeries {
  labels: Labels;
  timestamps: number[];
  histograms: FloatHistogram[];
}

export function classicToNHCB(series: readonly SeriesLine[], stepMs: number): ConvertedSeries[] {
  const groups = new Map<string, Pending>();
  for (const s of series) {
    const name = s.labels.find((l) => l.name === '__name__')?.value ?? '';
    const suffix = ['_bucket', '_count', '_sum'].find((x) => name.endsWith(x));
    if (!suffix) continue;
    let le = NaN;
    if (suffix === '_bucket') {
      const text = s.labels.find((l) => l.name === 'le')?.value;
      if (text === undefined) continue;
      le = parseLe(text);
      if (Number.isNaN(le)) continue;
    }
    const base = name.slice(0, -suffix.length);
    const labels = s.labels
      .filter((l) => l.name !== 'le')
      .map((l) => (l.name === '__name__' ? { name: l.name, value: base } : l));
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, byTime: new Map() }));
    s.values.forEach((v, i) => {
      if (v.kind !== 'float') return;
      const t = i * stepMs;
      let at = g.byTime.get(t);
      if (!at) g.byTime.set(t, (at = { buckets: [] }));
      if (suffix === '_bucket') at.buckets.push({ le, cumulative: v.v });
      else if (suffix === '_count') at.count = v.v;
      else at.sum = v.v;
    });
  }
  const out: ConvertedSeries[] = [];
  for (const g of groups.values()) {
    const times = [...g.byTime.keys()].sort((a, b) => a - b);
    const hs: FloatHistogram[] = [];
    const ts: number[] = [];
    for (const t of times) {
      const at = g.byTime.get(t);
      if (!at || at.buckets.length === 0) continue;
      ts.push(t);
      hs.push(classicToCustomBuckets(at.buckets, at.count, at.sum));
    }
    if (ts.length > 0) out.push({ labels: g.labels, timestamps: ts, histograms: hs });
  }
  return out;
}

function parseLe(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return t === '' ? NaN : Number(t);
}
