/** Relative tolerance of the upstream runner. */
const EPSILON = 0.000001;
const MIN_NORMAL = 2.2250738585072014e-308;

/** Float comparison as Prometheus' util/almost.Equal: NaN equals NaN, relative error otherwise. */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < EPSILON * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < EPSILON;
}
