import { QueryError } from './types.js';

/**
 * A function over the samples of one series in one window: samples [lo, hi) of ts/vs, all with
 * rangeStart < t <= rangeEnd. Returns undefined for "no output at this step".
 */
export type RangeFn = (
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
  params: readonly number[],
  /** The evaluation step's own time, which `@` and `offset` do not move. */
  stepTime: number,
) => number | undefined;

/** Kahan-Babuška summation, as Prometheus uses for sums over time. */
export class KahanSum {
  sum = 0;
  c = 0;

  add(v: number): void {
    const t = this.sum + v;
    // An infinite sum needs no compensation, and Inf - Inf would turn it into NaN.
    if (t === Infinity || t === -Infinity) this.c = 0;
    else if (Math.abs(this.sum) >= Math.abs(v)) this.c += this.sum - t + v;
    else this.c += v - t + this.sum;
    this.sum = t;
  }

  value(): number {
    return this.sum + this.c;
  }
}

/**
 * The mean Prometheus' avg and avg_over_time compute: a compensated sum divided by the count
 * while the sum stays finite, then an incremental mean, which keeps large values from
 * overflowing and infinities of one sign from turning into NaN.
 */
export class MeanAccumulator {
  private readonly sum = new KahanSum();
  private n = 0;
  private incremental = false;
  private mean = 0;
  private c = 0;

  add(f: number): void {
    this.n++;
    if (this.n === 1) {
      this.sum.add(f);
      return;
    }
    if (!this.incremental) {
      const before = { sum: this.sum.sum, c: this.sum.c };
      this.sum.add(f);
      if (Number.isFinite(this.sum.sum) || Number.isNaN(this.sum.sum)) return;
      this.incremental = true;
      this.mean = before.sum / (this.n - 1);
      this.c = before.c / (this.n - 1);
    }
    if (this.mean === Infinity || this.mean === -Infinity) {
      if ((f === Infinity || f === -Infinity) && this.mean > 0 === f > 0) return;
      if (Number.isFinite(f)) return;
    }
    const current = this.mean + this.c;
    const inc = f / this.n - current / this.n;
    const t = this.mean + inc;
    if (t === Infinity || t === -Infinity) this.c = 0;
    else if (Math.abs(this.mean) >= Math.abs(inc)) this.c += this.mean - t + inc;
    else this.c += inc - t + this.mean;
    this.mean = t;
  }

  get count(): number {
    return this.n;
  }

  value(): number {
    return this.incremental ? this.mean + this.c : this.sum.value() / this.n;
  }
}

function extrapolatedRate(isCounter: boolean, isRate: boolean): RangeFn {
  return (ts, vs, lo, hi, rangeStart, rangeEnd) => {
    const n = hi - lo;
    if (n < 2) return undefined;
    let result = vs[hi - 1] - vs[lo];
    if (isCounter) {
      let prev = vs[lo];
      for (let i = lo + 1; i < hi; i++) {
        const cur = vs[i];
        if (cur < prev) result += prev;
        prev = cur;
      }
    }
    const firstT = ts[lo];
    const lastT = ts[hi - 1];
    let durationToStart = (firstT - rangeStart) / 1000;
    let durationToEnd = (rangeEnd - lastT) / 1000;
    const sampledInterval = (lastT - firstT) / 1000;
    const averageDurationBetweenSamples = sampledInterval / (n - 1);
    const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
    let extrapolateToInterval = sampledInterval;
    if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
    if (isCounter && result > 0 && vs[lo] >= 0) {
      // A counter cannot go below zero: do not extrapolate past the point where it would be 0.
      const durationToZero = sampledInterval * (vs[lo] / result);
      if (durationToZero < durationToStart) durationToStart = durationToZero;
    }
    extrapolateToInterval += durationToStart;
    if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
    extrapolateToInterval += durationToEnd;
    let factor = extrapolateToInterval / sampledInterval;
    if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
    return result * factor;
  };
}

function instantDelta(isRate: boolean): RangeFn {
  return (ts, vs, lo, hi) => {
    if (hi - lo < 2) return undefined;
    const last = vs[hi - 1];
    const prev = vs[hi - 2];
    let result = isRate && last < prev ? last : last - prev;
    if (!isRate) return result;
    const dt = ts[hi - 1] - ts[hi - 2];
    if (dt === 0) return undefined;
    result /= dt / 1000;
    return result;
  };
}

function linearRegression(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  interceptTime: number,
): [number, number] {
  let constY = true;
  for (let i = lo + 1; i < hi; i++) {
    if (vs[i] !== vs[lo]) {
      constY = false;
      break;
    }
  }
  if (constY && Number.isFinite(vs[lo])) return [0, vs[lo]];
  const n = hi - lo;
  const sumX = new KahanSum();
  const sumY = new KahanSum();
  const sumXY = new KahanSum();
  const sumX2 = new KahanSum();
  for (let i = lo; i < hi; i++) {
    const x = (ts[i] - interceptTime) / 1000;
    sumX.add(x);
    sumY.add(vs[i]);
    sumXY.add(x * vs[i]);
    sumX2.add(x * x);
  }
  const sx = sumX.value();
  const sy = sumY.value();
  const covXY = sumXY.value() - (sx * sy) / n;
  const varX = sumX2.value() - (sx * sx) / n;
  const slope = covXY / varX;
  const intercept = sy / n - (slope * sx) / n;
  return [slope, intercept];
}

function quantile(q: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // NaN sorts first, as Go's sort.Float64s orders it (a - b would leave the order undefined).
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex] * (1 - weight) + values[upperIndex] * weight;
}

export { quantile };

function variance(vs: Float64Array, lo: number, hi: number): number {
  // Welford's online algorithm, as Prometheus' stdvar_over_time.
  let count = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = lo; i < hi; i++) {
    count++;
    const delta = vs[i] - mean;
    mean += delta / count;
    m2 += delta * (vs[i] - mean);
  }
  return m2 / count;
}

/** The time of the last sample holding the minimum (or maximum); NaN only when all are NaN. */
function tsOfExtreme(better: (v: number, best: number) => boolean): RangeFn {
  return (ts, vs, lo, hi) => {
    if (hi <= lo) return undefined;
    let best = vs[lo];
    let at = ts[lo];
    for (let i = lo + 1; i < hi; i++) {
      const v = vs[i];
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(best) || better(v, best)) {
        best = v;
        at = ts[i];
      }
    }
    return at / 1000;
  };
}

export const RANGE_FUNCTIONS: ReadonlyMap<string, RangeFn> = new Map<string, RangeFn>([
  ['rate', extrapolatedRate(true, true)],
  ['increase', extrapolatedRate(true, false)],
  ['delta', extrapolatedRate(false, false)],
  ['irate', instantDelta(true)],
  ['idelta', instantDelta(false)],
  [
    'sum_over_time',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      const k = new KahanSum();
      for (let i = lo; i < hi; i++) k.add(vs[i]);
      return k.value();
    },
  ],
  [
    'avg_over_time',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      const m = new MeanAccumulator();
      for (let i = lo; i < hi; i++) m.add(vs[i]);
      return m.value();
    },
  ],
  ['count_over_time', (_ts, _vs, lo, hi) => (hi > lo ? hi - lo : undefined)],
  [
    'min_over_time',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      let m = vs[lo];
      for (let i = lo + 1; i < hi; i++) if (vs[i] < m || Number.isNaN(m)) m = vs[i];
      return m;
    },
  ],
  [
    'max_over_time',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      let m = vs[lo];
      for (let i = lo + 1; i < hi; i++) if (vs[i] > m || Number.isNaN(m)) m = vs[i];
      return m;
    },
  ],
  ['last_over_time', (_ts, vs, lo, hi) => (hi > lo ? vs[hi - 1] : undefined)],
  ['first_over_time', (_ts, vs, lo, hi) => (hi > lo ? vs[lo] : undefined)],
  ['ts_of_last_over_time', (ts, _vs, lo, hi) => (hi > lo ? ts[hi - 1] / 1000 : undefined)],
  ['ts_of_first_over_time', (ts, _vs, lo, hi) => (hi > lo ? ts[lo] / 1000 : undefined)],
  ['ts_of_min_over_time', tsOfExtreme((v, best) => v <= best)],
  ['ts_of_max_over_time', tsOfExtreme((v, best) => v >= best)],
  ['present_over_time', (_ts, _vs, lo, hi) => (hi > lo ? 1 : undefined)],
  ['stddev_over_time', (_ts, vs, lo, hi) => (hi > lo ? Math.sqrt(variance(vs, lo, hi)) : undefined)],
  ['stdvar_over_time', (_ts, vs, lo, hi) => (hi > lo ? variance(vs, lo, hi) : undefined)],
  [
    'changes',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      let changes = 0;
      for (let i = lo + 1; i < hi; i++) {
        const a = vs[i - 1];
        const b = vs[i];
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) changes++;
      }
      return changes;
    },
  ],
  [
    'resets',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      let resets = 0;
      for (let i = lo + 1; i < hi; i++) if (vs[i] < vs[i - 1]) resets++;
      return resets;
    },
  ],
  [
    'deriv',
    (ts, vs, lo, hi) => {
      if (hi - lo < 2) return undefined;
      return linearRegression(ts, vs, lo, hi, ts[lo])[0];
    },
  ],
  [
    'predict_linear',
    (ts, vs, lo, hi, _rs, _re, params, stepTime) => {
      if (hi - lo < 2) return undefined;
      // Upstream regresses around the step time, so `@` and `offset` shift the prediction too.
      const [slope, intercept] = linearRegression(ts, vs, lo, hi, stepTime);
      return slope * params[0] + intercept;
    },
  ],
  [
    'quantile_over_time',
    (_ts, vs, lo, hi, _rs, _re, params) => {
      if (hi <= lo) return undefined;
      return quantile(params[0], Array.from(vs.subarray(lo, hi)));
    },
  ],
  [
    'mad_over_time',
    (_ts, vs, lo, hi) => {
      if (hi <= lo) return undefined;
      const values = Array.from(vs.subarray(lo, hi));
      // A NaN sample makes the deviation unknowable; sorting it first would hide it.
      if (values.some(Number.isNaN)) return NaN;
      const median = quantile(0.5, values.slice());
      return quantile(
        0.5,
        values.map((v) => Math.abs(v - median)),
      );
    },
  ],
  [
    'double_exponential_smoothing',
    (_ts, vs, lo, hi, _rs, _re, params) => {
      const [sf, tf] = params;
      if (!(sf > 0 && sf < 1))
        throw new QueryError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`);
      if (!(tf > 0 && tf < 1)) throw new QueryError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`);
      if (hi - lo < 2) return undefined;
      let s0 = 0;
      let s1 = vs[lo];
      let b = vs[lo + 1] - vs[lo];
      for (let i = lo + 1; i < hi; i++) {
        const x = sf * vs[i];
        if (i > lo + 1) b = tf * (s1 - s0) + (1 - tf) * b;
        const y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    },
  ],
]);

/** Range functions that keep the metric name of their input. */
export const NAME_KEEPING_RANGE_FUNCTIONS: ReadonlySet<string> = new Set([
  'last_over_time',
  'first_over_time',
]);
