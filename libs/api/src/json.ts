import { formatValue, TimeSlice, type FloatHistogram, type Labels } from '@pharos/model';
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

function resultBody(r: QueryResult): string {
  switch (r.resultType) {
    case 'scalar':
      return `{"resultType":"scalar","result":${point(r.t, r.v)}}`;
    case 'string':
      return `{"resultType":"string","result":[${r.t / 1000},${JSON.stringify(r.v)}]}`;
    case 'vector':
      return `{"resultType":"vector","result":[${r.result.map(vectorElement).join(',')}]}`;
    case 'matrix':
      return `{"resultType":"matrix","result":[${r.result.map(matrixElement).join(',')}]}`;
  }
}

type VectorElement = Extract<QueryResult, { resultType: 'vector' }>['result'][number];
type MatrixElement = Extract<QueryResult, { resultType: 'matrix' }>['result'][number];

function vectorElement(s: VectorElement): string {
  return s.h
    ? `{"metric":${metricJSON(s.labels)},"histogram":${histogramPoint(s.t, s.h)}}`
    : `{"metric":${metricJSON(s.labels)},"value":${point(s.t, s.v)}}`;
}

function matrixElement(s: MatrixElement): string {
  const pts: string[] = new Array(s.timestamps.length);
  for (let i = 0; i < s.timestamps.length; i++) pts[i] = point(s.timestamps[i], s.values[i]);
  const values = pts.length > 0 || !s.histograms ? `,"values":[${pts.join(',')}]` : '';
  const hs = s.histograms
    ? `,"histograms":[${s.histograms.map((p) => histogramPoint(p.t, p.h)).join(',')}]`
    : '';
  return `{"metric":${metricJSON(s.labels)}${values}${hs}}`;
}

/** Pieces of about this size go to the socket; a piece is built between two time-slice checks. */
const PIECE = 64 * 1024;

/**
 * A query result as JSON in pieces, for a streamed response: a result of millions of points is
 * never one string (V8 caps a string at 512 MiB) and its encoding gives the event loop back
 * between series.
 */
export async function* resultJSONStream(r: QueryResult, withStats = false): AsyncGenerator<string> {
  const slice = new TimeSlice();
  const stats = withStats ? `,"stats":${statsJSON(r)}` : '';
  if (r.resultType !== 'vector' && r.resultType !== 'matrix') {
    yield `${resultBody(r).slice(0, -1)}${stats}}`;
    return;
  }
  let buf = `{"resultType":"${r.resultType}","result":[`;
  for (let k = 0; k < r.result.length; k++) {
    if (k > 0) buf += ',';
    buf += r.resultType === 'vector' ? vectorElement(r.result[k]) : matrixElement(r.result[k]);
    if (buf.length >= PIECE) {
      yield buf;
      buf = '';
      if (slice.due()) await slice.pause();
    }
  }
  yield `${buf}]${stats}}`;
}

/** /api/v1/series' data in pieces, as resultJSONStream. */
export async function* seriesJSONStream(list: readonly Labels[]): AsyncGenerator<string> {
  const slice = new TimeSlice();
  let buf = '[';
  for (let k = 0; k < list.length; k++) {
    if (k > 0) buf += ',';
    buf += metricJSON(list[k]);
    if (buf.length >= PIECE) {
      yield buf;
      buf = '';
      if (slice.due()) await slice.pause();
    }
  }
  yield `${buf}]`;
}

export async function* successJSONStream(
  data: AsyncIterable<string>,
  notes: { readonly warnings: readonly string[]; readonly infos: readonly string[] },
): AsyncGenerator<string> {
  yield '{"status":"success","data":';
  yield* data;
  let tail = '';
  if (notes.warnings.length > 0) tail += `,"warnings":${JSON.stringify(notes.warnings)}`;
  if (notes.infos.length > 0) tail += `,"infos":${JSON.stringify(notes.infos)}`;
  yield `${tail}}`;
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
