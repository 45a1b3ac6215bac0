/** Tokens of Go's text/template, with the byte offset each starts at (for error positions). */
export type TokenKind =
  | 'text'
  | 'left'
  | 'right'
  | 'comment'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'dot'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'leftParen'
  | 'rightParen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly val: string;
  readonly pos: number;
  /** Whitespace came before this token inside the action (Go's itemSpace): it separates arguments. */
  readonly spaced: boolean;
}

export const KEYWORDS = new Set([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'template',
  'with',
]);

export class TemplateSyntaxError extends Error {
  constructor(
    readonly pos: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string) => /[\p{L}\p{Nd}_]/u.test(c);

/** Splits a template into text and action tokens; trim markers are applied here. */
export function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    const textEnd = open < 0 ? src.length : open;
    let text = src.slice(i, textEnd);
    if (open >= 0 && src[open + 2] === '-' && isSpace(src[open + 3] ?? ''))
      text = text.replace(/[ \t\r\n]+$/, '');
    if (text.length > 0) out.push({ kind: 'text', val: text, pos: i, spaced: false });
    if (open < 0) break;
    i = lexAction(src, open, out);
  }
  out.push({ kind: 'eof', val: '', pos: src.length, spaced: false });
  return out;
}

/** Lexes one action starting at `{{`; returns the offset after its `}}` (and any trimmed space). */
function lexAction(src: string, open: number, out: Token[]): number {
  let i = open + 2;
  if (src[i] === '-' && isSpace(src[i + 1] ?? '')) i += 2;
  // A comment is the whole action.
  let j = i;
  while (isSpace(src[j] ?? '')) j++;
  if (src.startsWith('/*', j) && j === i) {
    const end = src.indexOf('*/', j + 2);
    if (end < 0) throw new TemplateSyntaxError(open, 'unclosed comment');
    let k = end + 2;
    let trim = false;
    if (src.startsWith(' -}}', k) || src.startsWith('\t-}}', k) || src.startsWith('\n-}}', k)) {
      trim = true;
      k += 4;
    } else if (src.startsWith('}}', k)) k += 2;
    else throw new TemplateSyntaxError(open, 'comment ends before closing delimiter');
    out.push({ kind: 'comment', val: src.slice(j, end + 2), pos: open, spaced: false });
    return trim ? skipSpace(src, k) : k;
  }
  out.push({ kind: 'left', val: '{{', pos: open, spaced: false });
  let spaced = false;
  let parenDepth = 0;
  for (;;) {
    if (i >= src.length) throw new TemplateSyntaxError(open, 'unclosed action');
    const c = src[i];
    if (isSpace(c)) {
      // " -}}" closes and trims what follows.
      let k = i;
      while (isSpace(src[k] ?? '')) k++;
      if (src.startsWith('-}}', k)) {
        if (parenDepth > 0) throw new TemplateSyntaxError(i, 'unclosed left paren');
        out.push({ kind: 'right', val: '}}', pos: k, spaced: true });
        return skipSpace(src, k + 3);
      }
      spaced = true;
      i = k;
      continue;
    }
    const push = (kind: TokenKind, val: string) => {
      out.push({ kind, val, pos: i, spaced });
      spaced = false;
      i += val.length;
    };
    if (src.startsWith('}}', i)) {
      if (parenDepth > 0) throw new TemplateSyntaxError(i, 'unclosed left paren');
      push('right', '}}');
      return i;
    }
    if (c === '|') push('pipe', '|');
    else if (c === '(') {
      parenDepth++;
      push('leftParen', '(');
    } else if (c === ')') {
      parenDepth--;
      if (parenDepth < 0) throw new TemplateSyntaxError(i, `unexpected right paren`);
      push('rightParen', ')');
    } else if (c === ':') {
      if (src[i + 1] !== '=') throw new TemplateSyntaxError(i, 'expected :=');
      push('declare', ':=');
    } else if (c === '=') push('assign', '=');
    else if (c === ',') push('comma', ',');
    else if (c === '"') push('string', quoted(src, i, '"'));
    else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new TemplateSyntaxError(i, 'unterminated raw quoted string');
      push('rawString', src.slice(i, end + 1));
    } else if (c === "'") push('char', quoted(src, i, "'"));
    else if (c === '$') {
      let k = i + 1;
      while (k < src.length && isAlnum(src[k])) k++;
      push('variable', src.slice(i, k));
    } else if (c === '.') {
      if (/[0-9]/.test(src[i + 1] ?? '')) push('number', number(src, i));
      else {
        let k = i + 1;
        while (k < src.length && isAlnum(src[k])) k++;
        push(k === i + 1 ? 'dot' : 'field', src.slice(i, k));
      }
    } else if (/[0-9+-]/.test(c)) {
      const n = number(src, i);
      if (n === '' || n === '+' || n === '-')
        throw new TemplateSyntaxError(i, `bad character U+${hex(c)} '${c}'`);
      push('number', n);
    } else if (isAlnum(c)) {
      let k = i;
      while (k < src.length && isAlnum(src[k])) k++;
      const word = src.slice(i, k);
      push(
        KEYWORDS.has(word)
          ? 'keyword'
          : word === 'true' || word === 'false'
            ? 'bool'
            : word === 'nil'
              ? 'nil'
              : 'identifier',
        word,
      );
    } else {
      throw new TemplateSyntaxError(i, `bad character U+${hex(c)} '${c}'`);
    }
  }
}

function hex(c: string): string {
  return (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

function skipSpace(src: string, i: number): number {
  while (isSpace(src[i] ?? '')) i++;
  return i;
}

function quoted(src: string, start: number, q: string): string {
  let k = start + 1;
  while (k < src.length) {
    const c = src[k];
    if (c === '\\') k += 2;
    else if (c === '\n') break;
    else if (c === q) return src.slice(start, k + 1);
    else k++;
  }
  throw new TemplateSyntaxError(
    start,
    q === '"' ? 'unterminated quoted string' : 'unterminated character constant',
  );
}

function number(src: string, start: number): string {
  const m =
    /^[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|([0-9][0-9_]*)?(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)i?/.exec(
      src.slice(start),
    );
  const n = m ? m[0] : '';
  // A number running into letters ("3x") is one bad number token in Go.
  const after = src[start + n.length] ?? '';
  if (n !== '' && isAlnum(after)) throw new TemplateSyntaxError(start, `bad number syntax: "${n}${after}"`);
  return n;
}
