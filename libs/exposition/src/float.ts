/**
 * Parses a sample value as Go's strconv.ParseFloat does for the exposition formats: decimal and
 * exponent forms, and NaN / Inf / Infinity in any case with an optional sign. Returns undefined
 * when the text is not a number.
 */
export function parseSampleValue(s: string): number | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  const start = c === 43 || c === 45 ? 1 : 0; // + or -
  const first = s.charCodeAt(start);
  if (!((first >= 48 && first <= 57) || first === 46)) {
    // Only the spelled-out values start with a letter; numbers, the common case, skip this.
    const lower = s.slice(start).toLowerCase();
    if (lower === 'inf' || lower === 'infinity') return c === 45 ? -Infinity : Infinity;
    if (lower === 'nan') return NaN;
    return undefined;
  }
  for (let i = start; i < s.length; i++) {
    const d = s.charCodeAt(i);
    // Digits, '.', 'e', 'E', and a sign right after the exponent are all Number() needs to see;
    // rejecting the rest keeps out what Number() alone would accept (hex, whitespace, "").
    const ok =
      (d >= 48 && d <= 57) ||
      d === 46 ||
      d === 101 ||
      d === 69 ||
      ((d === 43 || d === 45) && i > start && (s.charCodeAt(i - 1) | 32) === 101);
    if (!ok) return undefined;
  }
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The value of `s[start, end)` when it is a plain decimal of at most 15 digits ("1234", "-0.25"),
 * read in place; NaN for anything else, which the caller hands to parseSampleValue. Exact: both
 * the digits and the power of ten are exact doubles, and one IEEE division rounds correctly.
 */
export function parseSimpleDecimal(s: string, start: number, end: number): number {
  let i = start;
  const c = s.charCodeAt(i);
  const negative = c === 45;
  if (negative || c === 43) i++;
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
      digits++;
      if (frac >= 0) frac++;
    } else if (d === -2 && frac < 0) {
      frac = 0; // '.'
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  const v = frac > 0 ? m / POW10[frac] : m;
  return negative ? -v : v;
}

/**
 * Go's strconv.FormatFloat(v, 'g', -1, 64), the text exposition format's number format: the
 * shortest digits, in exponent form when the exponent is below -4 or at least 6 ("1e+06").
 */
export function formatGoFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v !== v) return 'NaN';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, exp] = v.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(v);
}

/** Go's FormatFloat(v, 'g', -1, 64) with a ".0" added to integers, as OpenMetrics writes floats. */
export function formatOpenMetricsFloat(v: number): string {
  const s = formatGoFloat(v);
  if (s.includes('.') || s.includes('e') || s === 'NaN' || s.endsWith('Inf')) return s;
  return `${s}.0`;
}
