import { RE2JS } from 're2js';
import { expandTemplate as expandGroups } from '@pharos/regex';
import { formatFloat } from './float.js';
import type { FuncMap, GoFunc } from './exec.js';
import { GoDuration, GoHTML, typeName, type GoValue } from './values.js';

// Text helpers that both Prometheus' and Alertmanager's template function sets share.

/** The humanize family takes anything number-like (convertToFloat upstream). */
export function toFloat(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoDuration) return v.ns / 1e9;
  if (typeof v === 'string') {
    if (/^[+-]?inf(inity)?$/i.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(v)) return NaN;
    const n = v !== '' && v.trim() === v ? Number(v) : NaN;
    if (Number.isNaN(n)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
    return n;
  }
  throw new Error(`can't convert ${typeName(v)} to float`);
}

export const g4 = (v: number) => formatFloat(v, 'g', 4);
const SMALL_PREFIXES = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

/** Divides by `step` while |v| is at least `step`, naming the last prefix used. */
function scaleUp(v: number, step: number, prefixes: readonly string[]): string {
  let prefix = '';
  for (const p of prefixes) {
    if (Math.abs(v) < step) break;
    prefix = p;
    v /= step;
  }
  return g4(v) + prefix;
}

/** Multiplies by 1000 while |v| is below 1: milli, micro, nano... */
function scaleDown(v: number): string {
  let prefix = '';
  for (const p of SMALL_PREFIXES) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  return Math.abs(v) >= 1 ? scaleUp(v, 1000, ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) : scaleDown(v);
}

export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  return scaleUp(v, 1024, ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']);
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return `${g4(v)}s`;
  if (Math.abs(v) < 1) return `${scaleDown(v)}s`;
  const sign = v < 0 ? '-' : '';
  v = Math.abs(v);
  const whole = Math.trunc(v);
  const seconds = whole % 60;
  const minutes = Math.trunc(whole / 60) % 60;
  const hours = Math.trunc(whole / 3600) % 24;
  const days = Math.trunc(whole / 86400);
  if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
  if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
  if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
  return `${sign}${g4(v)}s`;
}

function compile(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    throw new Error(`error parsing regexp: ${(e as Error).message.replace(/^error parsing regexp: /, '')}`);
  }
}

/** Go's regexp.ReplaceAllString: `$1` and `${name}` expand, unanchored, every match. */
function replaceAll(re: RE2JS, repl: string, text: string): string {
  const m = re.matcher(text);
  const names = new Map(Object.entries(re.namedGroups() as Record<string, number>));
  let out = '';
  let copied = 0;
  let lastEnd = -1;
  let pos = 0;
  while (pos <= text.length && m.find(pos)) {
    const s = m.start();
    const e = m.end();
    // An empty match right after the previous match is skipped, as in Go.
    if (!(s === e && s === lastEnd)) {
      const groups: Array<string | null> = [];
      for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i));
      out += text.slice(copied, s) + expandGroups(repl, groups, names);
      copied = e;
    }
    lastEnd = e;
    pos = s === e ? e + 1 : e;
  }
  return out + text.slice(copied);
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, sep: string, c: string) => sep + c.toUpperCase());
}

const fn = (params: GoFunc['params'], f: GoFunc['fn']): GoFunc => ({ params, fn: f });

/** The functions Prometheus' and Alertmanager's template languages both define, alike. */
export const COMMON_TEXT_FUNCS: FuncMap = new Map<string, GoFunc>([
  ['toUpper', fn(['string'], (s) => (s as string).toUpperCase())],
  ['toLower', fn(['string'], (s) => (s as string).toLowerCase())],
  ['title', fn(['string'], (s) => title(s as string))],
  ['safeHtml', fn(['string'], (t) => new GoHTML(t as string))],
  ['humanizeDuration', fn(['any'], (v) => humanizeDuration(toFloat(v)))],
  [
    'match',
    fn(['string', 'string'], (p, s) =>
      compile(p as string)
        .matcher(s as string)
        .find(),
    ),
  ],
  [
    'reReplaceAll',
    fn(['string', 'string', 'string'], (p, r, t) => {
      let re: RE2JS;
      try {
        re = RE2JS.compile(p as string);
      } catch (e) {
        throw new Error(`regexp: Compile(${JSON.stringify(p)}): ${(e as Error).message}`);
      }
      return replaceAll(re, r as string, t as string);
    }),
  ],
]);
