// Native histograms in test files: `{{schema:0 sum:5 count:4 buckets:[1 2 1] offset:1
// n_buckets:[..] n_offset:.. z_bucket:.. z_bucket_w:.. custom_values:[..] counter_reset_hint:..}}`.
// Bucket lists are absolute counts of consecutive buckets starting at the offset.
import { FloatHistogram, CUSTOM_BUCKETS_SCHEMA, type CounterResetHint } from '@pharos/model';

const HINTS: Record<string, CounterResetHint> = {
  unknown: 'unknown',
  reset: 'reset',
  not_reset: 'not_reset',
  gauge: 'gauge',
};

function number(text: string): number {
  const t = text.toLowerCase().replace(/^\+/, '');
  if (t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`invalid number ${JSON.stringify(text)} in histogram`);
  return v;
}

export interface HistogramLiteral {
  h: FloatHistogram;
  /** Whether the literal names its counter reset hint, so a comparison checks it. */
  hintSet: boolean;
}

/** Parses one `{{...}}` literal. */
export function parseHistogramLiteral(text: string): HistogramLiteral {
  if (!text.startsWith('{{') || !text.endsWith('}}')) throw new Error(`invalid histogram ${text}`);
  const body = text.slice(2, -2).trim();
  const fields = new Map<string, string>();
  const re = /([a-z_]+):(\[[^\]]*\]|\S+)/gy;
  let pos = 0;
  while (pos < body.length) {
    while (pos < body.length && /\s/.test(body[pos])) pos++;
    if (pos >= body.length) break;
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) throw new Error(`invalid histogram field at ${JSON.stringify(body.slice(pos))}`);
    if (fields.has(m[1])) throw new Error(`duplicate histogram field ${m[1]}`);
    fields.set(m[1], m[2]);
    pos = re.lastIndex;
  }
  const list = (key: string): number[] => {
    const v = fields.get(key);
    if (v === undefined) return [];
    if (!v.startsWith('[')) throw new Error(`histogram field ${key} must be a list`);
    return v
      .slice(1, -1)
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(number);
  };
  const scalar = (key: string, fallback: number): number => {
    const v = fields.get(key);
    return v === undefined ? fallback : number(v);
  };
  const known = new Set([
    'schema',
    'sum',
    'count',
    'z_bucket',
    'z_bucket_w',
    'buckets',
    'offset',
    'n_buckets',
    'n_offset',
    'custom_values',
    'counter_reset_hint',
  ]);
  for (const k of fields.keys()) if (!known.has(k)) throw new Error(`unknown histogram field ${k}`);
  const dense = (counts: number[], offset: number) => ({
    idx: counts.map((_, i) => offset + i),
    cnt: counts,
  });
  const hintText = fields.get('counter_reset_hint');
  const hint = hintText === undefined ? 'unknown' : HINTS[hintText];
  if (hint === undefined) throw new Error(`invalid counter_reset_hint ${hintText}`);
  const schema = scalar('schema', 0);
  const customValues = list('custom_values');
  if (customValues.length > 0 && schema !== CUSTOM_BUCKETS_SCHEMA)
    throw new Error('custom_values need schema:-53');
  const h = new FloatHistogram({
    schema,
    sum: scalar('sum', 0),
    count: scalar('count', 0),
    zeroCount: scalar('z_bucket', 0),
    zeroThreshold: scalar('z_bucket_w', 0),
    positive: dense(list('buckets'), scalar('offset', 0)),
    negative: dense(list('n_buckets'), scalar('n_offset', 0)),
    customValues,
    counterResetHint: hint,
  });
  return { h, hintSet: hintText !== undefined };
}

/**
 * Expands `{{a}}`, `{{a}}xN` (N+1 copies) and `{{a}}+{{d}}xN` / `{{a}}-{{d}}xN` (a, a±d, ...,
 * a±N·d) into histograms.
 */
export function expandHistogramToken(tok: string): HistogramLiteral[] {
  const close = tok.indexOf('}}');
  const first = parseHistogramLiteral(tok.slice(0, close + 2));
  const rest = tok.slice(close + 2);
  if (rest === '') return [first];
  const repeat = /^x(\d+)$/.exec(rest);
  if (repeat) {
    return Array.from({ length: Number(repeat[1]) + 1 }, () => ({
      h: first.h.copy(),
      hintSet: first.hintSet,
    }));
  }
  const step = /^([+-])(\{\{.*\}\})x(\d+)$/.exec(rest);
  if (!step) throw new Error(`invalid histogram sequence ${JSON.stringify(tok)}`);
  const delta = parseHistogramLiteral(step[2]).h;
  const n = Number(step[3]);
  const out: HistogramLiteral[] = [first];
  let cur = first.h;
  for (let k = 1; k <= n; k++) {
    cur = step[1] === '+' ? cur.copy().add(delta) : cur.copy().sub(delta);
    out.push({ h: cur.copy().compact(), hintSet: first.hintSet });
  }
  return out;
}
