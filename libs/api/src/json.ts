import { formatValue, type Labels } from '@pharos/model';
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

export function resultJSON(r: QueryResult): string {
  switch (r.resultType) {
    case 'scalar':
      return `{"resultType":"scalar","result":${point(r.t, r.v)}}`;
    case 'string':
      return `{"resultType":"string","result":[${r.t / 1000},${JSON.stringify(r.v)}]}`;
    case 'vector': {
      const parts = r.result.map((s) => `{"metric":${metricJSON(s.labels)},"value":${point(s.t, s.v)}}`);
      return `{"resultType":"vector","result":[${parts.join(',')}]}`;
    }
    case 'matrix': {
      const parts = r.result.map((s) => {
        const pts: string[] = new Array(s.timestamps.length);
        for (let i = 0; i < s.timestamps.length; i++) pts[i] = point(s.timestamps[i], s.values[i]);
        return `{"metric":${metricJSON(s.labels)},"values":[${pts.join(',')}]}`;
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
