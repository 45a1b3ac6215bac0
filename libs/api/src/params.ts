import { parseDuration } from '@pharos/config';
import { badData } from './errors.js';

/** "No bound" for series and label queries; the strings below are how Prometheus spells them. */
export const MIN_TIME = Number.MIN_SAFE_INTEGER;
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** A time parameter: Unix seconds (fractions allowed) or RFC 3339. Returns milliseconds. */
export function parseTime(s: string, name: string): number {
  const n = Number(s);
  if (s.trim() !== '' && Number.isFinite(n)) return Math.round(n * 1000);
  if (s === '-292273086-05-16T16:47:06Z') return MIN_TIME;
  if (s === '292277025-08-18T07:12:54.999999999Z') return MAX_TIME;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw badData(
    `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(s)} to a valid timestamp`,
  );
}

/** A duration parameter: seconds as a float, or a Prometheus duration. Returns milliseconds. */
export function parseDurationParam(s: string, name: string): number {
  const n = Number(s);
  if (s.trim() !== '' && Number.isFinite(n)) {
    const ms = Math.round(n * 1000);
    if (ms > Number.MAX_SAFE_INTEGER)
      throw badData(
        `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`,
      );
    return ms;
  }
  try {
    return parseDuration(s);
  } catch {
    throw badData(
      `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(s)} to a valid duration`,
    );
  }
}

/** Request parameters from the query string and, for form POSTs, the body, as Go's r.Form. */
export class Params {
  constructor(private readonly values: URLSearchParams) {}

  static from(query: unknown, body: unknown): Params {
    const p = new URLSearchParams();
    const add = (src: unknown) => {
      if (src === null || typeof src !== 'object') return;
      for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
        if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
        else if (v !== undefined) p.append(k, String(v));
      }
    };
    // Body values come first, as Go's ParseForm puts POST values before URL ones.
    add(body);
    add(query);
    return new Params(p);
  }

  get(name: string): string | undefined {
    const v = this.values.get(name);
    return v === null ? undefined : v;
  }

  getAll(name: string): string[] {
    return this.values.getAll(name);
  }

  time(name: string, def: number): number {
    const v = this.get(name);
    return v === undefined || v === '' ? def : parseTime(v, name);
  }

  limit(): number {
    const v = this.get('limit');
    if (v === undefined || v === '') return 0;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw badData(
        `invalid parameter "limit": cannot parse ${JSON.stringify(v)}: limit must be a non-negative integer`,
      );
    return n;
  }
}
