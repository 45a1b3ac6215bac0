import { formatFloat } from './float.js';
import { formatValue, GoHTML, typeName, type GoValue } from './values.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  width: number | undefined;
  prec: number | undefined;
}

/** strconv.Quote, near enough: JSON escapes are Go escapes for everything printable. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u007f/gi, '\\x7f');
}

function badVerb(verb: string, v: GoValue): string {
  if (v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
}

function padTo(s: string, spec: Spec, numeric: boolean): string {
  const w = spec.width ?? 0;
  if (s.length >= w) return s;
  if (spec.minus) return s.padEnd(w, ' ');
  if (spec.zero && numeric) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    return sign + s.slice(sign.length).padStart(w - sign.length, '0');
  }
  return s.padStart(w, ' ');
}

function signed(s: string, negative: boolean, spec: Spec): string {
  if (negative) return s;
  if (spec.plus) return `+${s}`;
  if (spec.space) return ` ${s}`;
  return s;
}

function formatOne(verb: string, v: GoValue, spec: Spec): string {
  switch (verb) {
    case 'v':
      if (typeof v === 'number')
        return padTo(signed(formatFloat(v, 'g', spec.prec ?? -1), v < 0, spec), spec, true);
      if (typeof v === 'string' && spec.sharp) return padTo(goQuote(v), spec, false);
      return padTo(formatValue(v), spec, false);
    case 's':
    case 'q': {
      let s: string;
      if (typeof v === 'string') s = v;
      else if (v instanceof GoHTML) s = v.html;
      else if (v === null || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean')
        return badVerb(verb, v);
      else s = formatValue(v);
      if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join('');
      return padTo(verb === 'q' ? goQuote(s) : s, spec, false);
    }
    case 'd':
      if (typeof v !== 'bigint') return badVerb(verb, v);
      return padTo(signed(v.toString(), v < 0n, spec), spec, true);
    case 'x':
    case 'X': {
      let s: string;
      if (typeof v === 'bigint') s = (v < 0n ? '-' : '') + (v < 0n ? -v : v).toString(16);
      else if (typeof v === 'string') s = Buffer.from(v, 'utf8').toString('hex');
      else return badVerb(verb, v);
      if (spec.sharp) s = s.startsWith('-') ? `-0x${s.slice(1)}` : `0x${s}`;
      return padTo(verb === 'X' ? s.toUpperCase() : s, spec, true);
    }
    case 'o':
    case 'b':
      if (typeof v !== 'bigint') return badVerb(verb, v);
      return padTo(v.toString(verb === 'o' ? 8 : 2), spec, true);
    case 'c':
      if (typeof v !== 'bigint') return badVerb(verb, v);
      return padTo(String.fromCodePoint(Number(v)), spec, false);
    case 't':
      if (typeof v !== 'boolean') return badVerb(verb, v);
      return padTo(v ? 'true' : 'false', spec, false);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (typeof v !== 'number') return badVerb(verb, v);
      const f = verb === 'F' ? 'f' : (verb as 'e' | 'E' | 'f' | 'g' | 'G');
      const prec = spec.prec ?? (f === 'g' || f === 'G' ? -1 : 6);
      let s = formatFloat(v, f, prec);
      if (Number.isNaN(v)) s = 'NaN';
      else if (!Number.isFinite(v)) s = v > 0 ? (spec.plus ? '+Inf' : spec.space ? ' Inf' : '+Inf') : '-Inf';
      else s = signed(s, s.startsWith('-'), spec);
      if (!Number.isFinite(v)) return padTo(s, { ...spec, zero: false }, false);
      return padTo(s, spec, true);
    }
    default:
      return badVerb(verb, v);
  }
}

const MAX_NUM = 1e6;

/** fmt.Sprintf with Go's verbs, flags, width and precision, and its error texts. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const spec: Spec = {
      minus: false,
      plus: false,
      space: false,
      zero: false,
      sharp: false,
      width: undefined,
      prec: undefined,
    };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === ' ') spec.space = true;
      else if (f === '0') spec.zero = !spec.minus;
      else if (f === '#') spec.sharp = true;
      else break;
    }
    // Go gives up on a width or precision past a million, as a guard against crazy numbers.
    const num = (): number | undefined => {
      const start = i;
      let n = 0;
      for (; i < format.length && format[i] >= '0' && format[i] <= '9'; i++) {
        if (n > MAX_NUM) {
          i = format.length;
          return undefined;
        }
        n = n * 10 + (format.charCodeAt(i) - 48);
      }
      return i > start ? n : undefined;
    };
    const intArg = (): number | undefined => {
      const a = args[argi++];
      if (typeof a !== 'bigint' || a > BigInt(MAX_NUM) || a < BigInt(-MAX_NUM)) return undefined;
      return Number(a);
    };
    if (format[i] === '*') {
      i++;
      const w = intArg();
      if (w === undefined) out += '%!(BADWIDTH)';
      else if (w < 0) {
        spec.width = -w;
        spec.minus = true;
        spec.zero = false;
      } else spec.width = w;
    } else spec.width = num();
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = intArg();
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else spec.prec = p;
      } else spec.prec = num() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = format[i++];
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[argi++], spec);
  }
  if (argi < args.length) {
    const extra = args.slice(argi).map((a) => (a === null ? '<nil>' : `${typeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = '';
  args.forEach((a, k) => {
    if (k > 0 && typeof a !== 'string' && typeof args[k - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: always a space between operands, and a newline. */
export function sprintln(args: readonly GoValue[]): string {
  return `${args.map((a) => formatValue(a)).join(' ')}\n`;
}
