// info(): enriches series with the data labels of info metrics (target_info by default) that
// share their identifying labels (instance, job), as Prometheus 3's experimental function.
import { LabelsBuilder, labelsKey, METRIC_NAME, type LabelMatcher, type Labels } from '@pharos/model';
import type { SeriesData } from '@pharos/tsdb';
import type { StepSeries } from './types.js';
import { QueryError } from './types.js';

const IDENTIFYING = ['instance', 'job'];

/** An info series' value at each step: present, and the time of the sample that made it so. */
export interface InfoAtSteps {
  readonly labels: Labels;
  readonly name: string;
  readonly has: Uint8Array;
  readonly sampleTime: Float64Array;
}

function get(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

/** Where an info series is present at each step (its latest sample within the lookback delta). */
export function infoAtSteps(
  data: SeriesData[],
  times: Float64Array,
  lookback: number,
  isStale: (v: number) => boolean,
): InfoAtSteps[] {
  return data.map((d) => {
    const has = new Uint8Array(times.length);
    const sampleTime = new Float64Array(times.length);
    let j = 0;
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      if (i > 0 && t < times[i - 1]) j = 0;
      while (j < d.timestamps.length && d.timestamps[j] <= t) j++;
      const k = j - 1;
      if (k >= 0 && d.timestamps[k] > t - lookback && !isStale(d.values[k])) {
        has[i] = 1;
        sampleTime[i] = d.timestamps[k];
      }
    }
    return { labels: d.labels, name: get(d.labels, METRIC_NAME), has, sampleTime };
  });
}

/**
 * The enrichment itself. `nameMatchers` choose the info metrics (and mark base series that are
 * themselves info metrics, which pass unchanged); `dataMatchers` filter info series and choose
 * which of their labels are added. A step without a matching info series keeps the series as it
 * is, unless a data matcher requires a value, in which case that step is dropped.
 */
export function enrich(
  base: StepSeries[],
  infos: InfoAtSteps[],
  nameMatchers: readonly LabelMatcher[],
  dataMatchers: readonly LabelMatcher[],
  n: number,
): StepSeries[] {
  const requiresData = dataMatchers.some((m) => !m.matchesEmpty());
  // A base series is itself an info metric only when a positive name matcher picks it.
  const positive = nameMatchers.some((m) => m.type === '=' || m.type === '=~');
  const isInfoMetric = (name: string) => positive && nameMatchers.every((m) => m.matches(name));
  const usable = infos.filter((info) => dataMatchers.every((m) => m.matches(get(info.labels, m.name))));
  const out = new Map<string, StepSeries>();
  const emit = (labels: Labels, i: number, v: number, dropName?: boolean) => {
    const key = labelsKey(labels);
    let o = out.get(key);
    if (!o) out.set(key, (o = { labels, vals: new Float64Array(n), has: new Uint8Array(n), dropName }));
    if (o.has[i]) throw new QueryError('vector cannot contain metrics with the same labelset');
    o.vals[i] = v;
    o.has[i] = 1;
  };
  for (const s of base) {
    const baseName = get(s.labels, METRIC_NAME);
    const ids = IDENTIFYING.filter((l) => get(s.labels, l) !== '');
    if (ids.length === 0 || isInfoMetric(baseName)) {
      for (let i = 0; i < n; i++) if (s.has[i]) emit(s.labels, i, s.vals[i], s.dropName);
      continue;
    }
    const candidates = usable.filter((info) => ids.every((l) => get(info.labels, l) === get(s.labels, l)));
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      // Per info metric, the series with the newest sample wins.
      const chosen = new Map<string, InfoAtSteps>();
      for (const c of candidates) {
        if (!c.has[i]) continue;
        const cur = chosen.get(c.name);
        if (!cur || c.sampleTime[i] > cur.sampleTime[i]) chosen.set(c.name, c);
      }
      if (chosen.size === 0) {
        if (!requiresData) emit(s.labels, i, s.vals[i], s.dropName);
        continue;
      }
      const added = new Map<string, string>();
      for (const c of chosen.values()) {
        for (const l of c.labels) {
          if (l.name === METRIC_NAME || IDENTIFYING.includes(l.name) || get(s.labels, l.name) !== '')
            continue;
          if (dataMatchers.length > 0 && !dataMatchers.some((m) => m.name === l.name)) continue;
          const prev = added.get(l.name);
          if (prev !== undefined && prev !== l.value) {
            throw new QueryError(
              `conflicting label: ${l.name} has values ${JSON.stringify(prev)} and ${JSON.stringify(l.value)} in the info metrics of ${JSON.stringify(baseName)}`,
            );
          }
          added.set(l.name, l.value);
        }
      }
      const b = new LabelsBuilder(s.labels);
      for (const [k, v] of added) b.set(k, v);
      emit(b.labels(), i, s.vals[i], s.dropName);
    }
  }
  return [...out.values()];
}
