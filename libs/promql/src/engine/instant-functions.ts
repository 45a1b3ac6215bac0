/** Functions applied to each value of an instant vector on its own. */
export const MATH_FUNCTIONS: ReadonlyMap<string, (v: number) => number> = new Map([
  ['abs', Math.abs],
  ['ceil', Math.ceil],
  ['floor', Math.floor],
  ['exp', Math.exp],
  ['ln', Math.log],
  ['log2', Math.log2],
  ['log10', Math.log10],
  ['sqrt', Math.sqrt],
  ['sgn', (v: number) => (Number.isNaN(v) ? v : Math.sign(v))],
  ['sin', Math.sin],
  ['cos', Math.cos],
  ['tan', Math.tan],
  ['asin', Math.asin],
  ['acos', Math.acos],
  ['atan', Math.atan],
  ['sinh', Math.sinh],
  ['cosh', Math.cosh],
  ['tanh', Math.tanh],
  ['asinh', Math.asinh],
  ['acosh', Math.acosh],
  ['atanh', Math.atanh],
  ['deg', (v: number) => (v * 180) / Math.PI],
  ['rad', (v: number) => (v * Math.PI) / 180],
]);

/** Date functions take seconds since the epoch and work in UTC. */
export const DATE_FUNCTIONS: ReadonlyMap<string, (d: Date) => number> = new Map([
  ['day_of_month', (d: Date) => d.getUTCDate()],
  ['day_of_week', (d: Date) => d.getUTCDay()],
  [
    'day_of_year',
    (d: Date) =>
      Math.floor(
        (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) /
          86_400_000,
      ) + 1,
  ],
  ['days_in_month', (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()],
  ['hour', (d: Date) => d.getUTCHours()],
  ['minute', (d: Date) => d.getUTCMinutes()],
  ['month', (d: Date) => d.getUTCMonth() + 1],
  ['year', (d: Date) => d.getUTCFullYear()],
]);

/** Go's math.Round semantics for round(): half away from zero after scaling by 1/to_nearest. */
export function roundTo(v: number, toNearest: number): number {
  const inv = 1 / toNearest;
  return Math.floor(v * inv + 0.5) / inv;
}

/** Classic histogram_quantile over one group of buckets (upper bound, cumulative count). */
export function bucketQuantile(
  q: number,
  buckets: Array<{ upper: number; count: number }>,
): { value: number; fixedMonotonicity: boolean } {
  let fixedMonotonicity = false;
  const value = (() => {
    if (Number.isNaN(q)) return NaN;
    if (q < 0) return -Infinity;
    if (q > 1) return Infinity;
    buckets.sort((a, b) => a.upper - b.upper);
    if (buckets.length < 2) return NaN;
    if (buckets[buckets.length - 1].upper !== Infinity) return NaN;
    // Merge buckets with the same bound and make counts monotonic, as Prometheus does.
    const merged: Array<{ upper: number; count: number }> = [];
    for (const b of buckets) {
      const last = merged[merged.length - 1];
      if (last && last.upper === b.upper) last.count += b.count;
      else merged.push({ ...b });
    }
    let max = -Infinity;
    for (const b of merged) {
      if (b.count < max) {
        b.count = max;
        fixedMonotonicity = true;
      } else max = b.count;
    }
    if (merged.length < 2) return NaN;
    const observations = merged[merged.length - 1].count;
    if (observations === 0) return NaN;
    const rank = q * observations;
    let i = 0;
    while (i < merged.length - 1 && merged[i].count < rank) i++;
    if (i === merged.length - 1) return merged[merged.length - 2].upper;
    if (i === 0 && merged[0].upper <= 0) return merged[0].upper;
    let bucketStart = 0;
    const bucketEnd = merged[i].upper;
    let count = merged[i].count;
    let r = rank;
    if (i > 0) {
      bucketStart = merged[i - 1].upper;
      count -= merged[i - 1].count;
      r -= merged[i - 1].count;
    }
    if (count === 0) return bucketStart;
    return bucketStart + (bucketEnd - bucketStart) * (r / count);
  })();
  return { value, fixedMonotonicity };
}

/**
 * The fraction of observations between lower and upper in classic buckets, as Prometheus'
 * BucketFraction: linear within finite buckets, the first bucket starting at 0 when its bound is
 * positive; an infinitely wide bucket counts only when the range covers it entirely.
 */
export function bucketFraction(
  lower: number,
  upper: number,
  input: Array<{ upper: number; count: number }>,
): number {
  const buckets = [...input].sort((a, b) => a.upper - b.upper);
  if (buckets.length === 0 || buckets[buckets.length - 1].upper !== Infinity) return NaN;
  const merged: Array<{ upper: number; count: number }> = [];
  for (const b of buckets) {
    const last = merged[merged.length - 1];
    if (last && last.upper === b.upper) last.count += b.count;
    else merged.push({ ...b });
  }
  const count = merged[merged.length - 1].count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = count;
  let upperRank = count;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < merged.length; i++) {
    const b = merged[i];
    const lowerBound = i > 0 ? merged[i - 1].upper : b.upper > 0 ? 0 : -Infinity;
    const upperBound = b.upper;
    // Within an infinitely wide bucket a value sits at its finite end.
    const at = (v: number) =>
      lowerBound === -Infinity
        ? b.count
        : rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound);
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = at(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = at(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  return (Math.min(upperRank, count) - Math.min(lowerRank, count)) / count;
}
