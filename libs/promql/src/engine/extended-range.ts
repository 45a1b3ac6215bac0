// Prometheus 3's `anchored` and `smoothed` range modifiers (experimental there). An anchored
// range also uses the last sample at or before its start; a smoothed one interpolates values at
// both boundaries. Both hand functions a window with points exactly at its start and end.

export const ANCHORED_SAFE = ['changes', 'delta', 'increase', 'rate', 'resets'];
export const SMOOTHED_SAFE = ['delta', 'increase', 'rate'];

export type ExtendedKind = 'anchored' | 'smoothed';

export function checkExtendedFunction(kind: ExtendedKind, fn: string): string | null {
  const safe = kind === 'anchored' ? ANCHORED_SAFE : SMOOTHED_SAFE;
  return safe.includes(fn)
    ? null
    : `${kind} modifier can only be used with: ${safe.join(', ')} - not with ${fn}`;
}

/** First index in [lo, hi) whose time satisfies `pred` (monotone), or hi. */
function search(ts: ArrayLike<number>, lo: number, hi: number, pred: (t: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(ts[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function interpolate(t1: number, y1: number, t2: number, y2: number, t: number, isCounter: boolean): number {
  // Across a counter reset the counter restarted from zero: interpolate from there.
  if (isCounter && y2 < y1) y1 = 0;
  return y1 + ((y2 - y1) * (t - t1)) / (t2 - t1);
}

/**
 * rate, increase and delta over an anchored or smoothed window, from the samples in
 * `ts[lo..hi)` (which reach a lookback delta before the window, and for smoothed after it): the
 * difference of the boundary values, the anchored one being the last sample at or before the
 * start, the smoothed ones interpolated at the boundaries, plus counter resets in between.
 */
export function extendedRate(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
  smoothed: boolean,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  if (hi <= lo) return undefined;
  let last = hi - 1;
  let first = Math.max(lo, search(ts, lo, last, (t) => t > rangeStart) - 1);
  if (smoothed) last = search(ts, lo, last, (t) => t >= rangeEnd);
  if (ts[last] <= rangeStart) return undefined;
  // Only samples after the window: nothing to measure inside it.
  if (ts[first] > rangeEnd) return undefined;
  const left =
    smoothed && ts[first] < rangeStart
      ? interpolate(ts[first], vs[first], ts[first + 1], vs[first + 1], rangeStart, isCounter)
      : vs[first];
  const right =
    smoothed && last > lo && ts[last] > rangeEnd
      ? interpolate(ts[last - 1], vs[last - 1], ts[last], vs[last], rangeEnd, isCounter)
      : vs[last];
  let result = right - left;
  if (isCounter) {
    // Resets at the boundaries are already in the interpolated values; count those strictly inside.
    if (ts[first] <= rangeStart) first++;
    if (ts[last] >= rangeEnd) last--;
    let prev = left;
    for (let i = first; i <= last; i++) {
      if (vs[i] < prev) result += prev;
      prev = vs[i];
    }
    if (right < prev) result += prev;
  }
  return isRate ? result / ((rangeEnd - rangeStart) / 1000) : result;
}

/**
 * Where changes() and resets() start over an anchored window: the last sample at or before its
 * start, or its first sample; -1 when no sample is inside the window.
 */
export function anchoredStart(ts: ArrayLike<number>, lo: number, hi: number, rangeStart: number): number {
  if (hi <= lo || ts[hi - 1] <= rangeStart) return -1;
  return Math.max(lo, search(ts, lo, hi - 1, (t) => t > rangeStart) - 1);
}

/**
 * A smoothed instant selector at time t: the sample at t, or the value interpolated between the
 * samples around t (within the lookback delta), or the last one before t when none follows.
 */
export function smoothedValue(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  t: number,
  lookback: number,
): number | undefined {
  const j = search(ts, 0, ts.length, (x) => x > t);
  const k = j - 1;
  if (k < 0 || ts[k] <= t - lookback) return undefined;
  if (ts[k] === t || j >= ts.length || ts[j] > t + lookback) return vs[k];
  return interpolate(ts[k], vs[k], ts[j], vs[j], t, false);
}
