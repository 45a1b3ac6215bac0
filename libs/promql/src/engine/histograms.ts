// PromQL over native histograms: the statistics histogram_* functions take from one histogram,
// and the range functions that work on histogram samples.
import { HistogramMixError, type Bucket, type CombineNotes, type FloatHistogram } from '@pharos/model';

/** What a computation over histograms found that the query's annotations report. */
export interface HistogramNotes extends CombineNotes {
  /** Histograms and floats met where only one kind can be used. */
  mixed?: boolean;
  /** Exponential and custom buckets met. */
  schemaMix?: boolean;
  /** A histogram marked as a gauge was used as a counter. */
  notCounter?: boolean;
  /** A counter histogram was used as a gauge (delta, idelta). */
  notGauge?: boolean;
  /** Counter reset hints of histograms summed together disagreed. */
  conflictingResets?: boolean;
}

/** Runs fn; exponential and custom buckets meeting is noted and gives undefined. */
function unlessMixed<T>(notes: HistogramNotes, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof HistogramMixError)) throw e;
    notes.schemaMix = true;
    return undefined;
  }
}

/**
 * Bucket bounds as the quantile and fraction estimates read them: the zero bucket of a histogram
 * with buckets on one side only starts (or ends) at 0.
 */
function* estimationBuckets(h: FloatHistogram): Generator<Bucket> {
  const onlyPositive = h.negative.idx.length === 0 && h.positive.idx.length > 0;
  const onlyNegative = h.positive.idx.length === 0 && h.negative.idx.length > 0;
  for (const b of h.buckets()) {
    if (!h.usesCustomBuckets && b.lower < 0 && b.upper > 0) {
      if (onlyPositive) yield { ...b, lower: 0 };
      else if (onlyNegative) yield { ...b, upper: 0 };
      else yield b;
    } else yield b;
  }
}

/**
 * The q-quantile of the observations, interpolated exponentially inside exponential buckets
 * and linearly inside custom buckets and the zero bucket, as Prometheus 3 does.
 */
export function histogramQuantile(
  q: number,
  h: FloatHistogram,
  /** Set when NaN observations made the result NaN, or skewed it. */
  nan?: { result?: 'nan' | 'skewed' },
): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (h.count === 0 || Number.isNaN(q)) return NaN;
  if (Number.isNaN(h.sum) && nan) nan.result = 'skewed';
  const all = [...estimationBuckets(h)];
  // NaN observations count but sit in no bucket: only from below is the rank then meaningful.
  const forward = Number.isNaN(h.sum) || q < 0.5;
  const order = forward ? all : all.slice().reverse();
  let rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let bucket: Bucket | undefined;
  for (const b of order) {
    if (b.count === 0) continue;
    bucket = b;
    count += b.count;
    if (count >= rank) break;
  }
  if (bucket === undefined || (Number.isNaN(h.sum) && count < rank)) {
    if (nan && Number.isNaN(h.sum)) nan.result = 'nan';
    return NaN;
  }
  let lower = bucket.lower;
  const upper = bucket.upper;
  if (h.usesCustomBuckets) {
    if (lower === -Infinity) {
      if (upper <= 0) return upper;
      lower = 0;
    } else if (upper === Infinity) return lower;
  }
  if (count > h.count) count = h.count;
  if (count < rank) return upper;
  if (forward) rank -= count - bucket.count;
  else rank = count - rank;
  const fraction = rank / bucket.count;
  if (h.usesCustomBuckets || (lower <= 0 && upper >= 0)) return lower + (upper - lower) * fraction;
  const logLower = Math.log2(Math.abs(lower));
  const logUpper = Math.log2(Math.abs(upper));
  if (lower > 0) return Math.pow(2, logLower + (logUpper - logLower) * fraction);
  return -Math.pow(2, logUpper + (logLower - logUpper) * (1 - fraction));
}

/** The fraction of observations between lower and upper, interpolated as histogramQuantile. */
export function histogramFraction(lower: number, upper: number, h: FloatHistogram): number {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (const raw of estimationBuckets(h)) {
    const b = { ...raw };
    if (h.usesCustomBuckets) {
      if (b.lower === -Infinity && b.upper > 0) b.lower = 0;
    }
    const linear = h.usesCustomBuckets || (b.lower <= 0 && b.upper >= 0);
    const within = (v: number): number => {
      if (linear) {
        if (b.upper === Infinity) return rank;
        return rank + (b.count * (v - b.lower)) / (b.upper - b.lower);
      }
      const logLower = Math.log2(Math.abs(b.lower));
      const logUpper = Math.log2(Math.abs(b.upper));
      const logV = Math.log2(Math.abs(v));
      const f =
        v > 0 ? (logV - logLower) / (logUpper - logLower) : 1 - (logV - logUpper) / (logLower - logUpper);
      return rank + b.count * f;
    };
    if (!lowerSet && b.lower >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && b.lower >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && b.lower < lower && b.upper > lower) {
      lowerRank = within(lower);
      lowerSet = true;
    }
    if (!upperSet && b.lower < upper && b.upper > upper) {
      upperRank = within(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += b.count;
  }
  if (!lowerSet || lowerRank > h.count) lowerRank = h.count;
  if (!upperSet || upperRank > h.count) upperRank = h.count;
  return (upperRank - lowerRank) / h.count;
}

/**
 * The variance of the observations, each bucket's observations taken at its geometric mean
 * (exponential buckets), its arithmetic mean (custom buckets) or 0 (the zero bucket).
 */
export function histogramVariance(h: FloatHistogram): number {
  const mean = h.sum / h.count;
  let variance = 0;
  let c = 0;
  for (const b of h.buckets()) {
    if (b.count === 0) continue;
    let v: number;
    if (h.usesCustomBuckets) v = (b.upper + b.lower) / 2;
    else if (b.lower <= 0 && b.upper >= 0) v = 0;
    else {
      v = Math.sqrt(b.upper * b.lower);
      if (b.upper < 0) v = -v;
    }
    const d = v - mean;
    const x = b.count * d * d;
    const t = variance + x;
    if (Math.abs(variance) >= Math.abs(x)) c += variance - t + x;
    else c += x - t + variance;
    variance = t;
  }
  return (variance + c) / h.count;
}

/** Sums histograms, reconciling schemas; undefined when exponential and custom buckets meet. */
export function sumHistograms(
  hs: readonly FloatHistogram[],
  notes: HistogramNotes,
): FloatHistogram | undefined {
  let acc: FloatHistogram | undefined;
  let reset = false;
  let notReset = false;
  for (const h of hs) {
    if (h.counterResetHint === 'reset') reset = true;
    else if (h.counterResetHint === 'not_reset') notReset = true;
    if (acc === undefined) {
      acc = h.copy();
      continue;
    }
    const into: FloatHistogram = acc;
    if (!unlessMixed(notes, () => into.add(h, notes))) return undefined;
  }
  if (reset && notReset) notes.conflictingResets = true;
  if (acc) acc.counterResetHint = hs.length > 1 ? 'unknown' : acc.counterResetHint;
  return acc;
}

/**
 * rate, increase and delta over histogram samples [lo, hi): the last minus the first, plus what
 * was lost at each counter reset, extrapolated to the window as for floats.
 */
export function extrapolatedHistogramRate(
  ts: Float64Array,
  hs: ReadonlyArray<FloatHistogram | undefined>,
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
  notes: HistogramNotes,
): FloatHistogram | undefined {
  const n = hi - lo;
  if (n < 2) return undefined;
  const first = hs[lo];
  const last = hs[hi - 1];
  if (!first || !last) {
    notes.mixed = true;
    return undefined;
  }
  for (let i = lo; i < hi; i++) {
    const h = hs[i];
    if (!h) {
      notes.mixed = true;
      return undefined;
    }
    if (isCounter && h.counterResetHint === 'gauge') notes.notCounter = true;
    if (!isCounter && h.counterResetHint !== 'gauge') notes.notGauge = true;
  }
  const result = unlessMixed(notes, () => {
    const r = last.copy().sub(first, notes);
    if (isCounter) {
      let prev = first;
      for (let i = lo + 1; i < hi; i++) {
        const cur = hs[i] as FloatHistogram;
        if (cur.detectReset(prev)) r.add(prev, notes);
        prev = cur;
      }
    }
    return r;
  });
  if (!result) return undefined;
  result.counterResetHint = 'gauge';
  result.compact();
  const firstT = ts[lo];
  const lastT = ts[hi - 1];
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const average = sampledInterval / (n - 1);
  const threshold = average * 1.1;
  if (durationToStart >= threshold) durationToStart = average / 2;
  if (isCounter && result.count > 0 && first.count >= 0) {
    const durationToZero = sampledInterval * (first.count / result.count);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = average / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return result.mul(factor);
}

/** irate and idelta over the last two histogram samples of a window. */
export function instantHistogramRate(
  ts: Float64Array,
  hs: ReadonlyArray<FloatHistogram | undefined>,
  lo: number,
  hi: number,
  isRate: boolean,
  notes: HistogramNotes,
): FloatHistogram | undefined {
  if (hi - lo < 2) return undefined;
  const prev = hs[hi - 2];
  const last = hs[hi - 1];
  if (!prev || !last) {
    notes.mixed = true;
    return undefined;
  }
  if (isRate && (prev.counterResetHint === 'gauge' || last.counterResetHint === 'gauge'))
    notes.notCounter = true;
  if (!isRate && (prev.counterResetHint !== 'gauge' || last.counterResetHint !== 'gauge'))
    notes.notGauge = true;
  const result = unlessMixed(notes, () =>
    isRate && last.detectReset(prev) ? last.copy() : last.copy().sub(prev, notes),
  );
  if (!result) return undefined;
  result.counterResetHint = 'gauge';
  result.compact();
  const dt = (ts[hi - 1] - ts[hi - 2]) / 1000;
  if (isRate) result.div(dt);
  return result;
}

/** Range functions that read histogram samples; the others see only a series' floats. */
export const HISTOGRAM_RANGE_FUNCTIONS = new Set([
  'rate',
  'increase',
  'delta',
  'irate',
  'idelta',
  'sum_over_time',
  'avg_over_time',
  'count_over_time',
  'present_over_time',
  'last_over_time',
  'first_over_time',
  'changes',
  'resets',
]);

export type WindowResult = { v: number; h?: undefined } | { h: FloatHistogram; v?: undefined } | undefined;

/**
 * One window of a series that holds histograms, samples [lo, hi). Windows of floats only are
 * left to the float function (`floats`).
 */
export function histogramWindow(
  name: string,
  ts: Float64Array,
  hs: ReadonlyArray<FloatHistogram | undefined>,
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
  notes: HistogramNotes,
  floats: () => number | undefined,
): WindowResult {
  let nh = 0;
  for (let i = lo; i < hi; i++) if (hs[i]) nh++;
  const n = hi - lo;
  if (nh === 0) {
    const v = floats();
    return v === undefined ? undefined : { v };
  }
  const h = (r: FloatHistogram | undefined): WindowResult => (r ? { h: r } : undefined);
  switch (name) {
    case 'count_over_time':
      return n > 0 ? { v: n } : undefined;
    case 'present_over_time':
      return n > 0 ? { v: 1 } : undefined;
    case 'last_over_time':
    case 'first_over_time': {
      if (n === 0) return undefined;
      const k = name === 'last_over_time' ? hi - 1 : lo;
      const x = hs[k];
      if (x) return { h: x };
      // The chosen sample is a float, which the float function picks as well.
      const v = floats();
      return v === undefined ? undefined : { v };
    }
    case 'rate':
    case 'increase':
    case 'delta':
      if (nh !== n) {
        notes.mixed = true;
        return undefined;
      }
      return h(
        extrapolatedHistogramRate(
          ts,
          hs,
          lo,
          hi,
          rangeStart,
          rangeEnd,
          name !== 'delta',
          name === 'rate',
          notes,
        ),
      );
    case 'irate':
    case 'idelta':
      return h(instantHistogramRate(ts, hs, lo, hi, name === 'irate', notes));
    case 'sum_over_time':
    case 'avg_over_time': {
      if (nh !== n) {
        notes.mixed = true;
        return undefined;
      }
      const sum = sumHistograms(hs.slice(lo, hi) as FloatHistogram[], notes);
      if (!sum) return undefined;
      sum.counterResetHint = 'gauge';
      return h(name === 'sum_over_time' ? sum : sum.div(n));
    }
    case 'changes':
    case 'resets': {
      let count = 0;
      for (let i = lo + 1; i < hi; i++) {
        const a = hs[i - 1];
        const b = hs[i];
        if (!a || !b) {
          // A float turning into a histogram (or back) is a change and starts the counter over.
          count++;
          continue;
        }
        if (name === 'changes' ? !b.equals(a) : b.detectReset(a)) count++;
      }
      return { v: count };
    }
    default:
      return undefined;
  }
}

/**
 * A binary operator where a side holds a histogram: the sum or difference of two histograms,
 * a histogram scaled by a float, or (==, !=) whether two are equal. Null where the operator does
 * not apply to these types, so the element is dropped.
 */
export function histogramBinop(
  op: string,
  lv: number,
  lh: FloatHistogram | undefined,
  rv: number,
  rh: FloatHistogram | undefined,
  notes: HistogramNotes,
): { v: number; h?: FloatHistogram; keep: boolean } | null {
  if (lh && rh) {
    switch (op) {
      case '+':
      case '-': {
        const h = unlessMixed(notes, () =>
          op === '+' ? lh.copy().add(rh, notes) : lh.copy().sub(rh, notes),
        );
        return h ? { v: 0, h, keep: true } : null;
      }
      case '==':
      case '!=': {
        const eq = lh.equals(rh);
        return { v: 0, h: lh, keep: op === '==' ? eq : !eq };
      }
      default:
        return null;
    }
  }
  if (lh && op === '*') return { v: 0, h: lh.copy().mul(rv), keep: true };
  if (lh && op === '/') return { v: 0, h: lh.copy().div(rv), keep: true };
  if (rh && op === '*') return { v: 0, h: rh.copy().mul(lv), keep: true };
  return null;
}
