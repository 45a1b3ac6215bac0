/**
 * Go's strconv.Unquote and UnquoteChar, which text/template uses for string and character
 * literals. Hand-written because JSON's string grammar differs: Go allows raw tabs and other
 * control characters, and has \a, \v, \x, octal and \U escapes, and refuses \' inside "...".
 */
export class UnquoteError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

// The one-letter escapes and what each stands for, position by position.
const ESCAPE_LETTERS = 'abfnrtv\\';
const ESCAPED = '\x07\b\f\n\r\t\v\\';

function hexValue(s: string, from: number, n: number): number {
  const digits = s.slice(from, from + n);
  if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) throw new UnquoteError();
  return parseInt(digits, 16);
}

/** Decodes the character at s[i] up to the closing `quote`; returns it and where the next starts. */
export function unquoteChar(s: string, i: number, quote: string): [string, number] {
  const c = s[i];
  if (c === undefined || c === quote || c === '\n') throw new UnquoteError();
  if (c !== '\\') {
    const cp = s.codePointAt(i) ?? 0;
    return [String.fromCodePoint(cp), i + (cp > 0xffff ? 2 : 1)];
  }
  const e = s[i + 1];
  if (e === undefined) throw new UnquoteError();
  const simple = ESCAPE_LETTERS.indexOf(e);
  if (simple >= 0) return [ESCAPED[simple], i + 2];
  if (e === "'" || e === '"') {
    if (e !== quote) throw new UnquoteError();
    return [e, i + 2];
  }
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const v = hexValue(s, i + 2, n);
    if (e !== 'x' && (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))) throw new UnquoteError();
    return [String.fromCodePoint(v), i + 2 + n];
  }
  if (e >= '0' && e <= '7') {
    const digits = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(digits)) throw new UnquoteError();
    const v = parseInt(digits, 8);
    if (v > 255) throw new UnquoteError();
    return [String.fromCharCode(v), i + 4];
  }
  throw new UnquoteError();
}

/** Go's strconv.Unquote for "...", '...' and `...` literals. */
export function unquote(s: string): string {
  const q = s[0];
  if (s.length < 2 || s[s.length - 1] !== q) throw new UnquoteError();
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new UnquoteError();
    return body.replace(/\r/g, '');
  }
  if (q !== '"' && q !== "'") throw new UnquoteError();
  let out = '';
  let i = 0;
  while (i < body.length) {
    const [ch, next] = unquoteChar(body, i, q);
    out += ch;
    i = next;
  }
  if (q === "'" && [...out].length !== 1) throw new UnquoteError();
  return out;
}
