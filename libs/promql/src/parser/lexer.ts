import { ParseError } from './errors.js';

export type TokenKind =
  | 'IDENT'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  | 'OP'
  | '{'
  | '}'
  | '['
  | ']'
  | '('
  | ')'
  | ','
  | ':'
  | '@'
  | 'EOF';

export interface Token {
  readonly kind: TokenKind;
  /** Source text; for STRING the unquoted value, for OP the operator. */
  readonly text: string;
  /** NUMBER: the value; DURATION: milliseconds. */
  readonly num: number;
  readonly start: number;
  readonly end: number;
}

const OPERATORS = [
  '==',
  '!=',
  '>=',
  '<=',
  '=~',
  '!~',
  '</',
  '>/',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '>',
  '<',
  '=',
];

const DURATION_UNITS: Array<[string, number]> = [
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 604_800_000],
  ['y', 31_536_000_000],
];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** What may not directly follow a number or duration; unlike names, not ':' (as in `[5m:1m]`). */
function isNumberTail(c: number): boolean {
  return c !== 58 && isIdentPart(c);
}

/** Splits a PromQL expression into tokens, all at once, so the parser can look ahead freely. */
export function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let bracketDepth = 0;
  let parenDepth = 0;
  const fail = (at: number, reason: string): never => {
    throw ParseError.at(input, at, reason);
  };
  const push = (kind: TokenKind, text: string, start: number, end: number, num = 0) =>
    out.push({ kind, text, num, start, end });

  while (i < input.length) {
    const c = input.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if (c === 35) {
      // Comment to the end of the line.
      while (i < input.length && input.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === 46 && isDigit(input.charCodeAt(i + 1)))) {
      i = lexNumberOrDuration(input, i, push, fail);
      continue;
    }
    if (c === 34 || c === 39 || c === 96) {
      const [value, end] = lexString(input, i, fail);
      push('STRING', value, start, end);
      i = end;
      continue;
    }
    if (bracketDepth > 0 && c === 58) {
      push(':', ':', start, ++i);
      continue;
    }
    if (isIdentStart(c)) {
      while (i < input.length && isIdentPart(input.charCodeAt(i))) i++;
      push('IDENT', input.slice(start, i), start, i);
      continue;
    }
    const ch = input[i];
    if ('{}[](),@'.includes(ch)) {
      if (ch === '[') bracketDepth++;
      if (ch === ']') bracketDepth = Math.max(0, bracketDepth - 1);
      if (ch === '(') parenDepth++;
      if (ch === ')') parenDepth = Math.max(0, parenDepth - 1);
      push(ch as TokenKind, ch, start, ++i);
      continue;
    }
    const op = OPERATORS.find((o) => input.startsWith(o, i));
    if (op !== undefined) {
      push('OP', op, start, (i += op.length));
      continue;
    }
    if (ch === '!') fail(i, "unexpected character after '!'");
    fail(i, `unexpected character: ${JSON.stringify(ch)}`);
  }
  // Upstream's lexer reports these when the parser reaches the end; the EOF token carries them.
  const eofError =
    parenDepth > 0 ? 'unclosed left parenthesis' : bracketDepth > 0 ? 'unclosed left bracket' : '';
  push('EOF', eofError, input.length, input.length);
  return out;
}

function lexNumberOrDuration(
  input: string,
  i: number,
  push: (kind: TokenKind, text: string, start: number, end: number, num?: number) => void,
  fail: (at: number, reason: string) => never,
): number {
  const start = i;
  // Hexadecimal integers.
  if (input[i] === '0' && (input[i + 1] === 'x' || input[i + 1] === 'X')) {
    i += 2;
    while (i < input.length && /[0-9a-fA-F_]/.test(input[i])) i++;
    const text = input.slice(start, i);
    const v = Number(text.replace(/_/g, ''));
    if (Number.isNaN(v) || text.endsWith('_')) fail(start, `bad number or duration syntax: "${text}"`);
    push('NUMBER', text, start, i, v);
    return i;
  }
  // A duration is digits followed by a unit, possibly repeated: 1h30m.
  const dur = /^(\d+(ms|s|m|h|d|w|y))+/.exec(input.slice(i));
  if (dur && !isNumberTail(input.charCodeAt(i + dur[0].length))) {
    const text = dur[0];
    let ms = 0;
    let lastUnit = -1;
    for (const [, n, u] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
      const idx = DURATION_UNITS.findIndex(([name]) => name === u);
      const order = [6, 5, 4, 3, 2, 1, 0][idx];
      if (order <= lastUnit) fail(start, `not a valid duration string: "${text}"`);
      lastUnit = order;
      ms += Number(n) * DURATION_UNITS[idx][1];
    }
    push('DURATION', text, start, i + text.length, ms);
    return i + text.length;
  }
  while (i < input.length && (isDigit(input.charCodeAt(i)) || input[i] === '_')) i++;
  if (input[i] === '.') {
    i++;
    while (i < input.length && (isDigit(input.charCodeAt(i)) || input[i] === '_')) i++;
  }
  if ((input[i] === 'e' || input[i] === 'E') && /[+-]?\d/.test(input.slice(i + 1, i + 3))) {
    i++;
    if (input[i] === '+' || input[i] === '-') i++;
    while (i < input.length && isDigit(input.charCodeAt(i))) i++;
  }
  const text = input.slice(start, i);
  if (isNumberTail(input.charCodeAt(i)) || /_$|_\.|\._|__/.test(text)) {
    while (i < input.length && isNumberTail(input.charCodeAt(i))) i++;
    fail(start, `bad number or duration syntax: "${input.slice(start, i)}"`);
  }
  push('NUMBER', text, start, i, Number(text.replace(/_/g, '')));
  return i;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes from \x escapes as a string. Go strings are bytes, so "\xff" is a string that is not
 * UTF-8; each byte of an invalid sequence becomes a lone surrogate (U+DC00 + byte), which keeps
 * the string ill-formed, so a label name made of it is refused as upstream refuses it.
 */
function decodeBytes(bytes: number[]): string {
  try {
    return strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return String.fromCharCode(...bytes.map((b) => (b < 0x80 ? b : 0xdc00 + b)));
  }
}

/** A quoted string with Go's escapes; backquoted strings are raw. */
function lexString(input: string, i: number, fail: (at: number, reason: string) => never): [string, number] {
  const quote = input[i];
  const start = i;
  i++;
  let out = '';
  while (i < input.length) {
    const ch = input[i];
    if (ch === quote) return [out, i + 1];
    if (quote !== '`' && ch === '\n') fail(start, 'unterminated quoted string');
    if (quote === '`' || ch !== '\\') {
      out += ch;
      i++;
      continue;
    }
    const e = input[i + 1];
    if (e === undefined) break;
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === quote) {
      out += quote;
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = input.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(i, `invalid escape sequence in string`);
      const code = parseInt(hex, 16);
      if (e === 'x') {
        // \x is a byte; bytes that are not ASCII only make sense in a sequence we decode as UTF-8.
        const bytes: number[] = [code];
        let j = i + 4;
        while (
          input[j] === '\\' &&
          input[j + 1] === 'x' &&
          /^[0-9a-fA-F]{2}$/.test(input.slice(j + 2, j + 4))
        ) {
          bytes.push(parseInt(input.slice(j + 2, j + 4), 16));
          j += 4;
        }
        out += decodeBytes(bytes);
        i = j;
        continue;
      }
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(i, 'invalid escape sequence in string');
      out += String.fromCodePoint(code);
      i += 2 + len;
    } else if (e >= '0' && e <= '7') {
      const oct = input.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) fail(i, 'invalid escape sequence in string');
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else {
      fail(i, `unknown escape sequence ${JSON.stringify('\\' + e)}`);
    }
  }
  return fail(start, 'unterminated quoted string');
}
