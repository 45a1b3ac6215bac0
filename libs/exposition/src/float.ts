/**
 * Parses a sample value as Go's strconv.ParseFloat does for the exposition formats: decimal and
 * exponent forms, and NaN / Inf / Infinity in any case with an optional sign. Returns undefined
 * when the text is not a number.
 */
export function parseSampleValue(s: string): number | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  const body = c === 43 || c === 45 ? s.slice(1) : s; // + or -
  const lower = body.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return c === 45 ? -Infinity : Infinity;
  if (lower === 'nan') return NaN;
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(i);
    // Digits, '.', 'e', 'E', and a sign right after the exponent are all Number() needs to see;
    // rejecting the rest keeps out what Number() alone would accept (hex, whitespace, "").
    const ok =
      (d >= 48 && d <= 57) ||
      d === 46 ||
      d === 101 ||
      d === 69 ||
      ((d === 43 || d === 45) && i > 0 && (body.charCodeAt(i - 1) | 32) === 101);
    if (!ok) return undefined;
  }
  if (body.length === 0) return undefined;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

/** Go's FormatFloat(v, 'g', -1, 64) with a ".0" added to integers, as OpenMetrics writes floats. */
export function formatOpenMetricsFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v !== v) return 'NaN';
  const abs = Math.abs(v);
  let s: string;
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [mant, exp] = v.toExponential().split('e');
    const e = Number(exp);
    s = `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  } else {
    s = Object.is(v, -0) ? '-0' : String(v);
  }
  if (s.includes('.') || s.includes('e')) return s;
  return `${s}.0`;
}
