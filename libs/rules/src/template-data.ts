import { RE2JS } from 're2js';
import { parseDuration } from '@pharos/config';
import { expandTemplate as expandGroups } from '@pharos/regex';
import {
  formatFloat,
  formatGoTime,
  GoDuration,
  GoHTML,
  GoMap,
  GoSlice,
  GoStruct,
  GoTime,
  Template,
  typeName,
  type FuncMap,
  type GoFunc,
  type GoValue,
} from '@pharos/template';

/** A sample as rule templates see query results: `.Labels` and `.Value`. */
export interface TemplateSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Runs an instant query for a template's `query` function. */
export type TemplateQuery = (expr: string, ts: number) => Promise<TemplateSample[]>;

export interface ExpandContext {
  /** The alerting rule's name: the template is called `__alert_<name>`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly value: number;
  /** Evaluation time in ms: what `query` runs at. */
  readonly ts: number;
  readonly query?: TemplateQuery;
}

/** Prometheus prepends these so users can write $labels and $value. */
const PRELUDE =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

const SAMPLE = {
  name: '*template.sample',
  accepts: (v: GoValue) => v instanceof GoStruct && v.typeName === '*template.sample',
};
const QUERY_RESULT = {
  name: 'template.queryResult',
  accepts: (v: GoValue) => v instanceof GoSlice && v.typeName === 'template.queryResult',
};

function toGoSample(s: TemplateSample): GoStruct {
  return new GoStruct('*template.sample', { Labels: GoMap.ofStrings(s.labels), Value: s.value });
}

/** The humanize family takes anything number-like (convertToFloat upstream). */
function toFloat(v: GoValue): number {
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

const g4 = (v: number) => formatFloat(v, 'g', 4);
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

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  return Math.abs(v) >= 1 ? scaleUp(v, 1000, ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) : scaleDown(v);
}

function humanize1024(v: number): string {
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

function floatToTime(v: number): GoTime | 'nan' {
  if (!Number.isFinite(v)) return 'nan';
  if (Math.abs(v) > 9.2e9) throw new Error('value out of range for a time');
  return new GoTime(v * 1000);
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

function stripPort(hostPort: string): string {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(hostPort) ?? /^([^:]*):([^:]*)$/.exec(hostPort);
  return m ? m[1] : hostPort;
}

function stripDomain(hostPort: string): string {
  let host = hostPort;
  let port = '';
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(hostPort) ?? /^([^:]*):([^:]*)$/.exec(hostPort);
  if (m) {
    host = m[1];
    port = m[2];
  }
  if (/^[0-9.]+$/.test(host) || host.includes(':')) return hostPort;
  const short = host.split('.')[0];
  if (!m) return short;
  return short.includes(':') ? `[${short}]:${port}` : `${short}:${port}`;
}

const f = (params: GoFunc['params'], fn: GoFunc['fn'], variadic?: GoFunc['variadic']): GoFunc =>
  variadic === undefined ? { params, fn } : { params, fn, variadic };

/** Prometheus' template functions (template/template.go) for rule labels and annotations. */
export function prometheusFuncs(ctx: Pick<ExpandContext, 'ts' | 'query' | 'externalURL'>): FuncMap {
  const external = (() => {
    try {
      return new URL(ctx.externalURL);
    } catch {
      return undefined;
    }
  })();
  return new Map<string, GoFunc>([
    [
      'query',
      f(['string'], async (q) => {
        if (!ctx.query) throw new Error('queries are not available here');
        const res = await ctx.query(q as string, ctx.ts);
        return new GoSlice(res.map(toGoSample), 'template.queryResult');
      }),
    ],
    [
      'first',
      f([QUERY_RESULT], (v) => {
        const items = (v as GoSlice).items;
        if (items.length === 0) throw new Error('first() called on vector with no elements');
        return items[0];
      }),
    ],
    [
      'label',
      f(
        ['string', SAMPLE],
        (l, s) => ((s as GoStruct).fields.Labels as GoMap).entries.get(l as string) ?? '',
      ),
    ],
    ['value', f([SAMPLE], (s) => (s as GoStruct).fields.Value)],
    ['strvalue', f([SAMPLE], (s) => ((s as GoStruct).fields.Labels as GoMap).entries.get('__value__') ?? '')],
    [
      'args',
      f(
        [],
        (...a) => new GoMap(new Map(a.map((v, i) => [`arg${i}`, v])), null, 'map[string]interface {}'),
        'any',
      ),
    ],
    [
      'reReplaceAll',
      f(['string', 'string', 'string'], (p, r, t) => {
        let re: RE2JS;
        try {
          re = RE2JS.compile(p as string);
        } catch (e) {
          throw new Error(`regexp: Compile(${JSON.stringify(p)}): ${(e as Error).message}`);
        }
        return replaceAll(re, r as string, t as string);
      }),
    ],
    ['safeHtml', f(['string'], (t) => new GoHTML(t as string))],
    [
      'match',
      f(['string', 'string'], (p, s) =>
        compile(p as string)
          .matcher(s as string)
          .find(),
      ),
    ],
    ['title', f(['string'], (s) => title(s as string))],
    ['toUpper', f(['string'], (s) => (s as string).toUpperCase())],
    ['toLower', f(['string'], (s) => (s as string).toLowerCase())],
    ['graphLink', f(['string'], (e) => `/graph?g0.expr=${goQueryEscape(e as string)}&g0.tab=0`)],
    ['tableLink', f(['string'], (e) => `/graph?g0.expr=${goQueryEscape(e as string)}&g0.tab=1`)],
    [
      'sortByLabel',
      f(['string', QUERY_RESULT], (l, v) => {
        const items = [...(v as GoSlice).items];
        const key = (x: GoValue) =>
          (((x as GoStruct).fields.Labels as GoMap).entries.get(l as string) ?? '') as string;
        items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        return new GoSlice(items, 'template.queryResult');
      }),
    ],
    ['humanize', f(['any'], (v) => humanize(toFloat(v)))],
    ['humanize1024', f(['any'], (v) => humanize1024(toFloat(v)))],
    ['humanizeDuration', f(['any'], (v) => humanizeDuration(toFloat(v)))],
    ['humanizePercentage', f(['any'], (v) => `${g4(toFloat(v) * 100)}%`)],
    [
      'humanizeTimestamp',
      f(['any'], (v) => {
        const x = toFloat(v);
        const t = floatToTime(x);
        return t === 'nan' ? g4(x) : formatGoTime(t.ms);
      }),
    ],
    [
      'toTime',
      f(['any'], (v) => {
        const t = floatToTime(toFloat(v));
        if (t === 'nan') throw new Error('value is NaN or Inf');
        return t;
      }),
    ],
    ['toDuration', f(['any'], (v) => new GoDuration(Math.round(toFloat(v) * 1e9)))],
    ['parseDuration', f(['string'], (d) => parseDuration(d as string) / 1000)],
    ['stripPort', f(['string'], (s) => stripPort(s as string))],
    ['stripDomain', f(['string'], (s) => stripDomain(s as string))],
    ['pathPrefix', f([], () => external?.pathname.replace(/\/$/, '') ?? '')],
    ['externalURL', f([], () => ctx.externalURL)],
  ]);
}

/** url.QueryEscape: spaces as "+", everything but unreserved characters escaped. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function templateName(alert: string): string {
  return `__alert_${alert}`;
}

/** Parses a label or annotation template as the ruler will; null when it is valid. */
export function checkTemplate(alert: string, text: string): string | null {
  try {
    Template.parse(templateName(alert), PRELUDE + text, prometheusFuncs({ ts: 0, externalURL: '' }), 'zero');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Expands a rule's label or annotation template. A broken template gives upstream's
 * `<error expanding template: ...>` text instead of failing the evaluation.
 */
export async function expandRuleTemplate(text: string, ctx: ExpandContext): Promise<string> {
  if (!text.includes('{{')) return text;
  const name = templateName(ctx.name);
  let tmpl: Template;
  try {
    tmpl = Template.parse(name, PRELUDE + text, prometheusFuncs(ctx), 'zero');
  } catch (e) {
    return `<error expanding template: error parsing template ${name}: ${(e as Error).message}>`;
  }
  const data = new GoStruct('struct', {
    Labels: GoMap.ofStrings(ctx.labels),
    ExternalLabels: GoMap.ofStrings(ctx.externalLabels),
    ExternalURL: ctx.externalURL,
    Value: ctx.value,
  });
  try {
    return await tmpl.execute(data);
  } catch (e) {
    return `<error expanding template: error executing template ${name}: ${(e as Error).message}>`;
  }
}
