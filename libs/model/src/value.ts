// Prometheus marks a series as stale with one particular NaN (0x7ff0000000000002). Its payload
// must survive storage bit for bit, so checks look at the bits, never at `isNaN` alone.
const scratch = new DataView(new ArrayBuffer(8));

export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

export const STALE_NAN: number = (() => {
  scratch.setUint32(0, STALE_NAN_HI);
  scratch.setUint32(4, STALE_NAN_LO);
  return scratch.getFloat64(0);
})();

export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  scratch.setFloat64(0, v);
  return scratch.getUint32(0) === STALE_NAN_HI && scratch.getUint32(4) === STALE_NAN_LO;
}

/** Formats a sample value as Prometheus does in JSON and text: NaN, +Inf, -Inf, shortest decimal. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v !== v) return 'NaN';
  return formatFloat(v);
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64) shape: shortest round-trip, exponent at 1e21 and 1e-5. */
function formatFloat(v: number): string {
  if (Object.is(v, -0)) return '-0';
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [mant, exp] = v.toExponential().split('e');
    const e = Number(exp);
    const sign = e < 0 ? '-' : '+';
    const digits = String(Math.abs(e)).padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  return String(v);
}
