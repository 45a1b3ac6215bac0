/**
 * Go's strconv float formatting ('e', 'f', 'g' with a precision, or shortest), which templates
 * print through: `{{ $value }}` of 1000000 is "1e+06" and `printf "%.2f"` rounds a tie to even,
 * where JavaScript's own formatting differs.
 */

interface Decimal {
  /** Significant digits, no leading zeros ("0" for zero). */
  digits: string;
  /** Position of the decimal point relative to the digits: value = 0.digits × 10^point. */
  point: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The exact decimal value of a finite, positive double. */
function exactDecimal(x: number): Decimal {
  f64[0] = x;
  const hi = u32[LITTLE ? 1 : 0];
  const lo = u32[LITTLE ? 0 : 1];
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  let digits: string;
  let point: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    point = digits.length;
  } else {
    // m × 2^e = m × 5^-e / 10^-e
    digits = (mant * 5n ** BigInt(-e)).toString();
    point = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  const lead = trimmed.length - trimmed.replace(/^0+/, '').length;
  return { digits: trimmed.slice(lead) || '0', point: point - lead };
}

/** The shortest digits that read back as x (JavaScript and Go agree on these). */
function shortestDecimal(x: number): Decimal {
  const [m, ex] = x.toExponential().split('e');
  const digits = m.replace('.', '');
  return { digits, point: Number(ex) + 1 };
}

/** Rounds to `nd` significant digits, half to even on an exact tie, as strconv does. */
function roundTo(d: Decimal, nd: number): Decimal {
  if (nd < 0) return { digits: '', point: d.point };
  if (d.digits.length <= nd) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < d.digits.length) up = true;
  else up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  const arr = d.digits.slice(0, nd).split('').map(Number);
  let point = d.point;
  if (up) {
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === 9) arr[i--] = 0;
    if (i < 0) {
      arr.unshift(1);
      arr.pop();
      if (arr.length === 0) arr.push(1);
      point++;
    } else arr[i]++;
  }
  return { digits: arr.join('').replace(/0+$/, ''), point };
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i] : '0';
}

function fmtE(d: Decimal, prec: number, upper: boolean): string {
  let s = digitAt(d, 0);
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  const exp = d.digits === '' ? 0 : d.point - 1;
  const sign = exp < 0 ? '-' : '+';
  const a = Math.abs(exp);
  return `${s}${upper ? 'E' : 'e'}${sign}${a < 10 ? '0' : ''}${a}`;
}

function fmtF(d: Decimal, prec: number): string {
  let s = '';
  if (d.point > 0) for (let i = 0; i < d.point; i++) s += digitAt(d, i);
  else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(d, d.point + i);
  }
  return s;
}

/**
 * strconv.FormatFloat(x, fmt, prec, 64): prec -1 means the shortest representation.
 * `fmt` is one of e, E, f, g, G.
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const body = formatAbs(Math.abs(x), fmt, prec);
  return neg ? `-${body}` : body;
}

function formatAbs(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  const shortest = prec < 0;
  let d: Decimal;
  if (x === 0) d = { digits: '', point: 0 };
  else if (shortest) d = shortestDecimal(x);
  else {
    const exact = exactDecimal(x);
    if (fmt === 'e' || fmt === 'E') d = roundTo(exact, prec + 1);
    else if (fmt === 'f') d = roundTo(exact, exact.point + prec);
    else d = roundTo(exact, prec === 0 ? 1 : prec);
  }
  const nd = d.digits.length;
  const dp = d.point;
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(d, shortest ? Math.max(nd - 1, 0) : prec, fmt === 'E');
    case 'f':
      return fmtF(d, shortest ? Math.max(nd - dp, 0) : prec);
    default: {
      let p = shortest ? nd : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > nd && nd >= dp) eprec = nd;
      // The shortest form decides between %e and %f as if the precision were 6.
      if (shortest) eprec = 6;
      const exp = dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (p > nd) p = nd;
        return fmtE(d, p - 1, fmt === 'G');
      }
      if (p > dp) p = nd;
      return fmtF(d, Math.max(p - dp, 0));
    }
  }
}
