import { readFileSync } from 'node:fs';
import { globFiles } from '@pharos/config';
import {
  COMMON_TEXT_FUNCS,
  GoDuration,
  GoMap,
  GoSlice,
  GoStruct,
  GoTime,
  Template,
  TemplateExecError,
  type FuncMap,
  type GoFunc,
  type GoValue,
} from '@pharos/template';
import { resolvedAt, type Alert } from './alert.js';
import { DEFAULT_TEMPLATES } from './default-templates.js';
import type { LabelSet } from './labelset.js';

/** Go's zero time, which notifications carry as the end of a firing alert. */
export const GO_ZERO_TIME = -62135596800000;

const f = (params: GoFunc['params'], fn: GoFunc['fn'], variadic?: GoFunc['variadic']): GoFunc =>
  variadic === undefined ? { params, fn } : { params, fn, variadic };

const stringsOf = (v: GoValue): string[] => (v instanceof GoSlice ? v.items.map((x) => String(x)) : []);

/** Alertmanager's template.DefaultFuncs on top of the text helpers shared with the ruler. */
const ALERTMANAGER_FUNCS: FuncMap = new Map<string, GoFunc>([
  ...COMMON_TEXT_FUNCS,
  ['trimSpace', f(['string'], (s) => (s as string).trim())],
  ['join', f(['string', 'any'], (sep, s) => stringsOf(s).join(sep as string))],
  ['stringSlice', f([], (...s) => new GoSlice(s.map(String), '[]string'), 'any')],
  ['safeUrl', f(['string'], (s) => s as string)],
  ['urlUnescape', f(['string'], (s) => decodeURIComponent((s as string).replace(/\+/g, ' ')))],
  ['toJson', f(['any'], (v) => JSON.stringify(toPlain(v)))],
  [
    'since',
    f(['any'], (t) => {
      if (!(t instanceof GoTime)) throw new Error('since expects a time');
      return new GoDuration((Date.now() - t.ms) * 1e6);
    }),
  ],
]);

function toPlain(v: GoValue): unknown {
  if (v instanceof GoMap) return Object.fromEntries([...v.entries].map(([k, x]) => [k, toPlain(x)]));
  if (v instanceof GoSlice) return v.items.map(toPlain);
  if (v instanceof GoStruct)
    return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, toPlain(x)]));
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/** template.KV: a label map with SortedPairs, Names, Values and Remove. */
export function kv(ls: LabelSet): GoMap {
  const names = Object.keys(ls).sort();
  const methods = {
    SortedPairs: () => {
      const pairs = names.map((n) => new GoStruct('template.Pair', { Name: n, Value: ls[n] }));
      return new GoSlice(pairs, 'template.Pairs', {
        Names: () => new GoSlice(names, '[]string'),
        Values: () =>
          new GoSlice(
            names.map((n) => ls[n]),
            '[]string',
          ),
      });
    },
    Names: () => new GoSlice(names, '[]string'),
    Values: () =>
      new GoSlice(
        names.map((n) => ls[n]),
        '[]string',
      ),
    Remove: (drop: GoValue) => {
      const gone = new Set(stringsOf(drop));
      return kv(Object.fromEntries(Object.entries(ls).filter(([k]) => !gone.has(k))));
    },
  };
  return new GoMap(new Map(Object.entries(ls)), '', 'template.KV', methods);
}

export interface TemplateAlert {
  readonly status: 'firing' | 'resolved';
  readonly alert: Alert;
}

function alertValue(a: TemplateAlert): GoStruct {
  return new GoStruct('template.Alert', {
    Status: a.status,
    Labels: kv(a.alert.labels),
    Annotations: kv(a.alert.annotations),
    StartsAt: new GoTime(a.alert.startsAt),
    EndsAt: new GoTime(a.alert.endsAt === 0 ? GO_ZERO_TIME : a.alert.endsAt),
    GeneratorURL: a.alert.generatorURL,
    Fingerprint: a.alert.fingerprint,
  });
}

function alertsValue(list: readonly TemplateAlert[]): GoSlice {
  return new GoSlice(list.map(alertValue), 'template.Alerts', {
    Firing: () => alertsValue(list.filter((a) => a.status === 'firing')),
    Resolved: () => alertsValue(list.filter((a) => a.status === 'resolved')),
  });
}

function common(sets: readonly LabelSet[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0] };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return out;
}

/** regexp.QuoteMeta: upstream puts the receiver name into the data quoted this way. */
const quoteMeta = (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

/** template.Data as plain values: the webhook payload and the template input are both built from it. */
export interface NotificationData {
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly TemplateAlert[];
  readonly groupLabels: LabelSet;
  readonly commonLabels: LabelSet;
  readonly commonAnnotations: LabelSet;
  readonly externalURL: string;
}

export function notificationData(
  receiver: string,
  groupLabels: LabelSet,
  alerts: readonly Alert[],
  externalURL: string,
  now: number,
): NotificationData {
  const list = alerts.map((a): TemplateAlert => ({
    status: resolvedAt(a, now) ? 'resolved' : 'firing',
    alert: a,
  }));
  return {
    receiver: quoteMeta(receiver),
    status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: list,
    groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL,
  };
}

export function dataValue(d: NotificationData): GoStruct {
  return new GoStruct('*template.Data', {
    Receiver: d.receiver,
    Status: d.status,
    Alerts: alertsValue(d.alerts),
    GroupLabels: kv(d.groupLabels),
    CommonLabels: kv(d.commonLabels),
    CommonAnnotations: kv(d.commonAnnotations),
    ExternalURL: d.externalURL,
  });
}

/** The default templates plus the `templates` files, with a renderer for config fields. */
export class NotificationTemplates {
  private readonly cache = new Map<string, Template>();

  private constructor(private readonly sources: ReadonlyArray<readonly [string, string]>) {}

  /** Reads and checks every template file; a syntax error fails the config load, as upstream. */
  static load(globs: readonly string[]): NotificationTemplates {
    const sources: Array<[string, string]> = [['default.tmpl', DEFAULT_TEMPLATES]];
    for (const g of globs) for (const file of globFiles(g)) sources.push([file, readFileSync(file, 'utf8')]);
    const t = new NotificationTemplates(sources);
    t.template('', false);
    return t;
  }

  private template(text: string, html: boolean): Template {
    const key = `${html ? 'h' : 't'}${text}`;
    let t = this.cache.get(key);
    if (!t) {
      t = Template.parse('', text, ALERTMANAGER_FUNCS, 'default', html);
      for (const [name, src] of this.sources) t.addParse(name, src);
      this.cache.set(key, t);
    }
    return t;
  }

  /** Renders one config field; an error names the field, as a failed notification reports it. */
  async render(text: string, data: GoValue, html = false): Promise<string> {
    if (text === '') return '';
    try {
      return await this.template(text, html).execute(data);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      throw new Error(`template: ${(e as Error).message}`);
    }
  }
}
