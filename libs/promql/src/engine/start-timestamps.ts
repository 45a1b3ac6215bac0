// Start timestamps (a sample's created time, as OTel and remote write 2.0 carry it) in the
// counter functions, following Prometheus 3's experimental support and its tests
// (promqltest/testdata/start_timestamps.test): a start time after the previous sample marks a
// reset, and a start time inside the window stands for a zero value there, which replaces
// extrapolating to the window's start.

/** A range function over samples [lo, hi) of a series that carries start times. */
export type StartAwareFn = (
  ts: Float64Array,
  vs: Float64Array,
  sts: Float64Array,
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
) => number | undefined;

/**
 * The start time of a sample as the functions use it: 0 (unknown) unless strictly before the
 * sample. A start equal to the sample's time is what OTel sends for a cumulative series whose
 * start is unknown, and a later one is invalid.
 */
export function usableStart(st: number, t: number): number {
  return st > 0 && st < t ? st : 0;
}

/** Whether the sample at index i restarted its counter according to the start timestamps. */
export function isStartReset(ts: Float64Array, sts: Float64Array, i: number): boolean {
  const curr = usableStart(sts[i], ts[i]);
  if (curr === 0) return false;
  const prevT = ts[i - 1];
  if (curr > prevT) return true;
  // A start at the previous sample is a delta series (a reset at every sample) when the previous
  // sample has a known start; without one it is a cumulative series whose start was unknown.
  return curr === prevT && usableStart(sts[i - 1], prevT) !== 0;
}

/** Whether a sample in [lo, hi) starts before the previous one ended without being a reset. */
export function hasStartOverlap(ts: Float64Array, sts: Float64Array, lo: number, hi: number): boolean {
  for (let i = lo + 1; i < hi; i++) {
    const curr = usableStart(sts[i], ts[i]);
    if (curr !== 0 && curr < ts[i - 1] && curr !== usableStart(sts[i - 1], ts[i - 1])) return true;
  }
  return false;
}

/** rate() and increase(). */
const startAwareRate =
  (isRate: boolean): StartAwareFn =>
  (ts, vs, sts, lo, hi, rangeStart, rangeEnd) => {
    const n = hi - lo;
    if (n < 1) return undefined;
    const firstStart = usableStart(sts[lo], ts[lo]);
    const fromStart = firstStart > rangeStart;
    if (n < 2 && !fromStart) return undefined;
    const firstT = ts[lo];
    const lastT = ts[hi - 1];
    let result = vs[hi - 1] - vs[lo];
    for (let i = lo + 1; i < hi; i++) {
      if (vs[i] < vs[i - 1] || isStartReset(ts, sts, i)) result += vs[i - 1];
    }
    const durationToEndRaw = (rangeEnd - lastT) / 1000;
    const averageDurationBetweenSamples = n > 1 ? (lastT - firstT) / 1000 / (n - 1) : 0;
    const durationToEnd =
      n < 2
        ? 0
        : durationToEndRaw >= averageDurationBetweenSamples * 1.1
          ? averageDurationBetweenSamples / 2
          : durationToEndRaw;
    let factor: number;
    if (fromStart) {
      // The counter was 0 at its start time, inside the window: no need to guess the left edge.
      result += vs[lo];
      const interval = (lastT - firstStart) / 1000;
      factor = (interval + durationToEnd) / interval;
    } else {
      const sampledInterval = (lastT - firstT) / 1000;
      let durationToStart = (firstT - rangeStart) / 1000;
      if (durationToStart >= averageDurationBetweenSamples * 1.1)
        durationToStart = averageDurationBetweenSamples / 2;
      if (result > 0 && vs[lo] >= 0) {
        const durationToZero = sampledInterval * (vs[lo] / result);
        if (durationToZero < durationToStart) durationToStart = durationToZero;
      }
      factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
    }
    if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
    return result * factor;
  };

/** irate() from the last two samples of the window, a start-time reset included. */
const startAwareIrate: StartAwareFn = (ts, vs, sts, lo, hi) => {
  if (hi - lo < 2) return undefined;
  const i = hi - 1;
  const interval = ts[i] - ts[i - 1];
  if (interval === 0) return undefined;
  const reset = vs[i] < vs[i - 1] || isStartReset(ts, sts, i);
  return (reset ? vs[i] : vs[i] - vs[i - 1]) / (interval / 1000);
};

/** resets(): value drops and start-time resets, each sample counted once. */
const startAwareResets: StartAwareFn = (ts, vs, sts, lo, hi) => {
  if (hi - lo < 1) return undefined;
  let n = 0;
  for (let i = lo + 1; i < hi; i++) if (vs[i] < vs[i - 1] || isStartReset(ts, sts, i)) n++;
  return n;
};

/** The functions whose result start times change, by name. */
export const START_TIMESTAMP_FUNCTIONS: ReadonlyMap<string, StartAwareFn> = new Map([
  ['rate', startAwareRate(true)],
  ['increase', startAwareRate(false)],
  ['irate', startAwareIrate],
  ['resets', startAwareResets],
]);
