import { formatValue, type FloatHistogram, type Labels } from '@pharos/model';
import type { QueryResult } from '@pharos/promql';

// Results are written as strings directly: a query can return millions of points, and building
// an object per point only to stringify it doubles the work.

function metricJSON(labels: Labels): string {
  let s = '{';
  for (let i = 0; i < labels.length; i++) {
    if (i > 0) s += ',';
    s += JSON.stringify(labels[i].name) + ':' + JSON.stringify(labels[i].value);
  }
  return s + '}';
}

function point(t: number, v: number): string {
  return `[${t / 1000},"${formatValue(v)}"]`;
}

/**
 * A native histogram as the query API writes it: count, sum and the non-empty buckets as
 * [boundary rule, lower, upper, count], the rule 0 for (l,u], 1 for [l,u), 2 for (l,u), 3 for [l,u].
 */
function histogramPoint(t: number, h: FloatHistogram): string {
  const buckets: string[] = [];
  for (const b of h.buckets()) {
    if (b.count === 0) continue;
    const rule = b.lowerInclusive ? (b.upperInclusive ? 3 : 1) : b.upperInclusive ? 0 : 2;
    buckets.push(`[${rule},"${formatValue(b.lower)}","${formatValue(b.upper)}","${formatValue(b.count)}"]`);
  }
  const body = `"count":"${formatValue(h.count)}","sum":"${formatValue(h.sum)}"`;
  return `[${t / 1000},{${body}${buckets.length > 0 ? `,"buckets":[${buckets.join(',')}]` : ''}}]`;
}

/**
 * The `stats` object of Prometheus' query API: the evaluation time and the samples loaded. Peak
 * samples are not tracked, so that field is left out rather than guessed.
 */
function statsJSON(r: QueryResult): string {
  const secs = r.stats.evalMs / 1000;
  return JSON.stringify({
    timings: {
      evalTotalTime: secs,
      resultSortTime: 0,
      queryPreparationTime: 0,
      innerEvalTime: secs,
      execQueueTime: 0,
      execTotalTime: secs,
    },
    samples: { totalQueryableSamples: r.stats.totalQueryableSamples },
  });
}

export function resultJSON(r: QueryResult, withStats = false): string {
  const body = resultBody(r);
  return withStats ? `${body.slice(0, -1)},"stats":${statsJSON(r)}}` : body;
}

function resultBody(r: QueryResult): string {
  switch (r.resultType) {
    case 'scalar':
      return `{"resultType":"scalar","result":${point(r.t, r.v)}}`;
    case 'string':
      return `{"resultType":"string","result":[${r.t / 1000},${JSON.stringify(r.v)}]}`;
    case 'vector': {
      const parts = r.result.map((s) =>
        s.h
          ? `{"metric":${metricJSON(s.labels)},"histogram":${histogramPoint(s.t, s.h)}}`
          : `{"metric":${metricJSON(s.labels)},"value":${point(s.t, s.v)}}`,
      );
      return `{"resultType":"vector","result":[${parts.join(',')}]}`;
    }
    case 'matrix': {
      const parts = r.result.map((s) => {
        const pts: string[] = new Array(s.timestamps.length);
        for (let i = 0; i < s.timestamps.length; i++) pts[i] = point(s.timestamps[i], s.values[i]);
        const values = pts.length > 0 || !s.histograms ? `,"values":[${pts.join(',')}]` : '';
        const hs = s.histograms
          ? `,"histograms":[${s.histograms.map((p) => histogramPoint(p.t, p.h)).join(',')}]`
          : '';
        return `{"metric":${metricJSON(s.labels)}${values}${hs}}`;
      });
      return `{"resultType":"matrix","result":[${parts.join(',')}]}`;
    }
  }
}

export function successJSON(
  data: string,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
): string {
  let s = `{"status":"success","data":${data}`;
  if (warnings.length > 0) s += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos.length > 0) s += `,"infos":${JSON.stringify(infos)}`;
  return s + '}';
}

export function labelsToObject(labels: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of labels) o[l.name] = l.value;
  return o;
}
