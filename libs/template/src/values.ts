import { formatFloat } from './float.js';

/**
 * Go values as templates see them. Go's int and float64 print and compare differently
 * (`{{ 3 }}` is "3", a float 1e6 is "1e+06"), so ints are bigints and floats are numbers.
 * `undefined` is Go's invalid value (a missing map key without missingkey=zero), which prints
 * as "<no value>".
 */
export type GoValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | GoMap
  | GoSlice
  | GoStruct
  | GoHTML
  | GoTime
  | GoDuration;

export type GoMethod = (...args: GoValue[]) => GoValue | Promise<GoValue>;

/** A map with its element type's zero value (what a missing key gives under missingkey=zero). */
export class GoMap {
  constructor(
    readonly entries: ReadonlyMap<string, GoValue>,
    readonly zero: GoValue = '',
    readonly typeName = 'map[string]string',
    readonly methods: Readonly<Record<string, GoMethod>> = {},
  ) {}

  static ofStrings(
    rec: Readonly<Record<string, string>>,
    methods: Readonly<Record<string, GoMethod>> = {},
  ): GoMap {
    return new GoMap(new Map(Object.entries(rec)), '', 'map[string]string', methods);
  }
}

export class GoSlice {
  constructor(
    readonly items: readonly GoValue[],
    readonly typeName = '[]interface {}',
    readonly methods: Readonly<Record<string, GoMethod>> = {},
  ) {}
}

export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Readonly<Record<string, GoValue>>,
    readonly methods: Readonly<Record<string, GoMethod>> = {},
  ) {}
}

/** html/template's HTML type: safeHtml's result. */
export class GoHTML {
  constructor(readonly html: string) {}
}

/** A time.Time, milliseconds since the epoch (UTC). */
export class GoTime {
  constructor(readonly ms: number) {}
}

/** A time.Duration in nanoseconds. */
export class GoDuration {
  constructor(readonly ns: number) {}
}

export function typeName(v: GoValue): string {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'bigint':
      return 'int';
    case 'boolean':
      return 'bool';
  }
  if (v instanceof GoHTML) return 'template.HTML';
  if (v instanceof GoTime) return 'time.Time';
  if (v instanceof GoDuration) return 'time.Duration';
  return v.typeName;
}

/** Go's truth: false, 0, nil, and empty strings, maps and slices are false. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'boolean':
      return v;
  }
  if (v instanceof GoMap) return v.entries.size > 0;
  if (v instanceof GoSlice) return v.items.length > 0;
  if (v instanceof GoHTML) return v.html.length > 0;
  if (v instanceof GoDuration) return v.ns !== 0;
  return true;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** time.Time.String() for a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function formatGoTime(ms: number): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const frac = ms - Math.floor(ms / 1000) * 1000;
  const fracText = frac === 0 ? '' : `.${pad(Math.round(frac * 1e6), 9).replace(/0+$/, '')}`;
  return `${base}${fracText} +0000 UTC`;
}

/** time.Duration.String(): "1h2m3.5s", "150ms", "0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFloat(u / div)}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const s = `${trimFloat(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, '');
}

/** fmt's %v. */
export function formatValue(v: GoValue): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return formatFloat(v, 'g', -1);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof GoHTML) return v.html;
  if (v instanceof GoTime) return formatGoTime(v.ms);
  if (v instanceof GoDuration) return formatGoDuration(v.ns);
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort();
    return `map[${keys.map((k) => `${k}:${formatValue(v.entries.get(k))}`).join(' ')}]`;
  }
  if (v instanceof GoSlice) return `[${v.items.map((x) => formatValue(x)).join(' ')}]`;
  return `{${Object.values(v.fields)
    .map((x) => formatValue(x))
    .join(' ')}}`;
}

/** Go's comparison of basic values for eq/ne/lt...: the error text when they are incomparable. */
export function basicKind(v: GoValue): 'string' | 'int' | 'float' | 'bool' | 'other' {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'boolean':
      return 'bool';
  }
  if (v instanceof GoHTML) return 'string';
  return 'other';
}

/** Go's RFC3339Nano in UTC: no fraction for whole seconds, the zero time as year 1. */
export function goTimeJSON(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
}
