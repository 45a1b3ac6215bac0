import { LabelMatcher, type MatchType } from '@pharos/model';
import { goQuote } from '@pharos/template';
import type { LabelSet } from './labelset.js';

export type { MatchType };

/** Alertmanager's labels.Matcher: PromQL's matcher, printed with Go quoting as amtool shows it. */
export class Matcher extends LabelMatcher {
  get isRegex(): boolean {
    return this.type === '=~' || this.type === '!~';
  }

  get isEqual(): boolean {
    return this.type === '=' || this.type === '=~';
  }

  /** A missing label matches as the empty string, as upstream. */
  override matches(v: string | undefined): boolean {
    return super.matches(v ?? '');
  }

  override toString(): string {
    return `${this.name}${this.type}${goQuote(this.value)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export function matchesAll(ms: readonly Matcher[], ls: LabelSet): boolean {
  for (const m of ms) if (!m.matches(ls[m.name])) return false;
  return true;
}

/** labels.Matchers.String(): `{a="1",b=~"x"}`. */
export function matchersString(ms: readonly Matcher[]): string {
  return `{${ms.map((m) => m.toString()).join(',')}}`;
}

const MATCHER_RE = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

/**
 * Alertmanager's classic matcher syntax (`name="value"`, unquoted values allowed), as amtool and
 * the `matchers` config fields accept it.
 */
export function parseMatcher(s: string): Matcher {
  const m = MATCHER_RE.exec(s);
  if (!m) throw new Error(`bad matcher format: ${s}`);
  const [, name, op, raw0] = m;
  let raw = raw0;
  let expectQuote = false;
  if (raw.startsWith('"')) {
    raw = raw.slice(1);
    expectQuote = true;
  }
  let value = '';
  let escaped = false;
  const chars = [...raw];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (escaped) {
      escaped = false;
      if (c === 'n') value += '\n';
      else if (c === '"' || c === '\\') value += c;
      else value += `\\${c}`;
      continue;
    }
    if (c === '\\') {
      if (i < chars.length - 1) {
        escaped = true;
        continue;
      }
      value += '\\';
    } else if (c === '"') {
      if (!expectQuote || i < chars.length - 1)
        throw new Error(`matcher value contains unescaped double quote: ${raw0}`);
      expectQuote = false;
    } else {
      value += c;
    }
  }
  if (expectQuote) throw new Error(`matcher value contains unescaped double quote: ${raw0}`);
  return new Matcher(op as MatchType, name, value);
}

/** A comma-separated list of matchers, optionally in braces: `{a="1", b=~"x,y"}`. */
export function parseMatchers(s: string): Matcher[] {
  let body = s.trim();
  if (body.startsWith('{')) body = body.slice(1);
  if (body.endsWith('}')) body = body.slice(0, -1);
  const tokens: string[] = [];
  let token = '';
  let inQuotes = false;
  let escaped = false;
  for (const c of body) {
    if (c === ',' && !inQuotes) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (c === '"') {
      if (!escaped) inQuotes = !inQuotes;
      else escaped = false;
    } else if (c === '\\') escaped = !escaped;
    else escaped = false;
    token += c;
  }
  if (token.trim() !== '') tokens.push(token.trim());
  return tokens.map(parseMatcher);
}
