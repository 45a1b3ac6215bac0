import { parseDuration } from '@pharos/config';
import {
  COMMON_TEXT_FUNCS,
  g4,
  humanize,
  humanize1024,
  toFloat,
  formatGoTime,
  GoDuration,
  GoMap,
  GoSlice,
  GoStruct,
  GoTime,
  Template,
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

function floatToTime(v: number): GoTime | 'nan' {
  if (!Number.isFinite(v)) return 'nan';
  if (Math.abs(v) > 9.2e9) throw new Error('value out of range for a time');
  return new GoTime(v * 1000);
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
    ...COMMON_TEXT_FUNCS,
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
