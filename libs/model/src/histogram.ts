// Native histograms as PromQL sees them: float bucket counts (absolute, not deltas) in sparse,
// index-sorted arrays. Exponential schemas -4..8 place bucket i of schema s at
// (2^((i-1)·2^-s), 2^(i·2^-s)]; the custom-bucket schema (-53, NHCB) takes its upper bounds from
// customValues, bucket i ending at customValues[i] and the last at +Inf.

export const CUSTOM_BUCKETS_SCHEMA = -53;

export type CounterResetHint = 'unknown' | 'reset' | 'not_reset' | 'gauge';

/** A run of consecutive bucket indices: the offset is from the end of the previous span. */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

/** Bucket counts by index, indices strictly increasing. */
export interface Buckets {
  idx: number[];
  cnt: number[];
}

export interface Bucket {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Whether the bound is part of the bucket, as the HTTP API's boundary rule reports it. */
  readonly lowerInclusive: boolean;
  readonly upperInclusive: boolean;
}

/** Two histograms that cannot be combined (exponential with custom buckets). */
export class HistogramMixError extends Error {
  constructor() {
    super('vector contains a mix of histograms with exponential and custom buckets schemas');
    this.name = 'HistogramMixError';
  }
}

export interface FloatHistogramInit {
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  count?: number;
  sum?: number;
  positive?: Buckets;
  negative?: Buckets;
  customValues?: number[];
  counterResetHint?: CounterResetHint;
}

/** What combining two custom-bucket histograms of different bounds did, for the annotation. */
export interface CombineNotes {
  reconciled?: boolean;
}

export class FloatHistogram {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positive: Buckets;
  negative: Buckets;
  customValues: number[];
  counterResetHint: CounterResetHint;

  constructor(init: FloatHistogramInit = {}) {
    this.schema = init.schema ?? 0;
    this.zeroThreshold = init.zeroThreshold ?? 0;
    this.zeroCount = init.zeroCount ?? 0;
    this.count = init.count ?? 0;
    this.sum = init.sum ?? 0;
    this.positive = init.positive ?? { idx: [], cnt: [] };
    this.negative = init.negative ?? { idx: [], cnt: [] };
    this.customValues = init.customValues ?? [];
    this.counterResetHint = init.counterResetHint ?? 'unknown';
  }

  get usesCustomBuckets(): boolean {
    return this.schema === CUSTOM_BUCKETS_SCHEMA;
  }

  copy(): FloatHistogram {
    return new FloatHistogram({
      ...this,
      positive: { idx: this.positive.idx.slice(), cnt: this.positive.cnt.slice() },
      negative: { idx: this.negative.idx.slice(), cnt: this.negative.cnt.slice() },
      customValues: this.customValues.slice(),
    });
  }

  /** Every count and the sum multiplied by f. */
  mul(f: number): this {
    this.count *= f;
    this.sum *= f;
    this.zeroCount *= f;
    for (let i = 0; i < this.positive.cnt.length; i++) this.positive.cnt[i] *= f;
    for (let i = 0; i < this.negative.cnt.length; i++) this.negative.cnt[i] *= f;
    return this;
  }

  div(f: number): this {
    this.count /= f;
    this.sum /= f;
    this.zeroCount /= f;
    for (let i = 0; i < this.positive.cnt.length; i++) this.positive.cnt[i] /= f;
    for (let i = 0; i < this.negative.cnt.length; i++) this.negative.cnt[i] /= f;
    return this;
  }

  /**
   * Adds o in place. Exponential histograms meet at the coarser schema and the wider zero
   * bucket; custom buckets of different bounds meet at the bounds both have (notes.reconciled).
   */
  add(o: FloatHistogram, notes?: CombineNotes): this {
    return this.combine(o, 1, notes);
  }

  sub(o: FloatHistogram, notes?: CombineNotes): this {
    return this.combine(o, -1, notes);
  }

  private combine(o: FloatHistogram, sign: 1 | -1, notes?: CombineNotes): this {
    if (this.usesCustomBuckets !== o.usesCustomBuckets) throw new HistogramMixError();
    let other = o;
    if (this.usesCustomBuckets) {
      if (!sameBounds(this.customValues, o.customValues)) {
        const common = this.customValues.filter((v) => o.customValues.includes(v));
        this.toCustomBounds(common);
        other = o.copy().toCustomBounds(common);
        if (notes) notes.reconciled = true;
      }
    } else {
      const schema = Math.min(this.schema, o.schema);
      if (this.schema !== schema) this.reduceResolution(schema);
      if (o.schema !== schema) other = o.copy().reduceResolution(schema);
      if (other.zeroThreshold !== this.zeroThreshold) {
        if (other === o) other = o.copy();
        reconcileZeroBuckets(this, other);
      }
    }
    this.count += sign * other.count;
    this.sum += sign * other.sum;
    this.zeroCount += sign * other.zeroCount;
    this.positive = mergeBuckets(this.positive, other.positive, sign);
    this.negative = mergeBuckets(this.negative, other.negative, sign);
    return this;
  }

  /** Lowers the resolution to a smaller schema, merging buckets that fall together. */
  reduceResolution(schema: number): this {
    if (this.usesCustomBuckets || schema >= this.schema) return this;
    const delta = this.schema - schema;
    this.positive = regroup(this.positive, delta);
    this.negative = regroup(this.negative, delta);
    this.schema = schema;
    return this;
  }

  /** Maps custom buckets onto a subset of their bounds: each into the first bound not below it. */
  private toCustomBounds(bounds: number[]): this {
    const idx: number[] = [];
    const cnt: number[] = [];
    for (let k = 0; k < this.positive.idx.length; k++) {
      const i = this.positive.idx[k];
      const upper = i < this.customValues.length ? this.customValues[i] : Infinity;
      let j = bounds.findIndex((b) => b >= upper);
      if (j < 0) j = bounds.length;
      if (idx.length > 0 && idx[idx.length - 1] === j) cnt[cnt.length - 1] += this.positive.cnt[k];
      else {
        idx.push(j);
        cnt.push(this.positive.cnt[k]);
      }
    }
    this.positive = { idx, cnt };
    this.customValues = bounds.slice();
    return this;
  }

  /** Drops empty buckets. */
  compact(): this {
    this.positive = dropEmpty(this.positive);
    this.negative = dropEmpty(this.negative);
    return this;
  }

  /**
   * Whether this histogram, following prev in a counter, starts over: a count or bucket went
   * down, the zero bucket narrowed, or the bucket layout changed in a way only a reset explains.
   */
  detectReset(prev: FloatHistogram): boolean {
    if (this.counterResetHint === 'reset') return true;
    if (this.counterResetHint === 'not_reset') return false;
    if (this.count < prev.count) return true;
    if (this.usesCustomBuckets !== prev.usesCustomBuckets) return true;
    if (this.usesCustomBuckets && !sameBounds(this.customValues, prev.customValues)) return true;
    if (!this.usesCustomBuckets && this.schema > prev.schema) return true;
    if (this.zeroThreshold < prev.zeroThreshold) return true;
    const cur = this.copy();
    const old = prev.copy();
    if (!cur.usesCustomBuckets) {
      const schema = Math.min(cur.schema, old.schema);
      cur.reduceResolution(schema);
      old.reduceResolution(schema);
      if (cur.zeroThreshold !== old.zeroThreshold) reconcileZeroBuckets(cur, old);
    }
    if (cur.zeroCount < old.zeroCount) return true;
    return decreased(old.positive, cur.positive) || decreased(old.negative, cur.negative);
  }

  /** Every bucket with its bounds, lowest first: negative buckets, the zero bucket, positive ones. */
  *buckets(): Generator<Bucket> {
    const n = this.negative;
    for (let k = n.idx.length - 1; k >= 0; k--) {
      const [lo, hi] = this.bounds(n.idx[k]);
      yield { lower: -hi, upper: -lo, count: n.cnt[k], lowerInclusive: true, upperInclusive: false };
    }
    if (!this.usesCustomBuckets && (this.zeroCount !== 0 || this.zeroThreshold !== 0)) {
      yield {
        lower: -this.zeroThreshold,
        upper: this.zeroThreshold,
        count: this.zeroCount,
        lowerInclusive: true,
        upperInclusive: true,
      };
    }
    const p = this.positive;
    for (let k = 0; k < p.idx.length; k++) {
      const [lo, hi] = this.bounds(p.idx[k]);
      yield { lower: lo, upper: hi, count: p.cnt[k], lowerInclusive: false, upperInclusive: true };
    }
  }

  /** Lower and upper bound of positive bucket i. */
  bounds(i: number): [number, number] {
    if (this.usesCustomBuckets) {
      const cv = this.customValues;
      return [i === 0 ? -Infinity : cv[i - 1], i < cv.length ? cv[i] : Infinity];
    }
    return [exponentialBound(i - 1, this.schema), exponentialBound(i, this.schema)];
  }

  equals(o: FloatHistogram): boolean {
    const a = this.copy().compact();
    const b = o.copy().compact();
    return (
      a.schema === b.schema &&
      a.count === b.count &&
      sameFloat(a.sum, b.sum) &&
      a.zeroThreshold === b.zeroThreshold &&
      a.zeroCount === b.zeroCount &&
      sameBounds(a.customValues, b.customValues) &&
      sameBuckets(a.positive, b.positive) &&
      sameBuckets(a.negative, b.negative)
    );
  }

  spans(side: 'positive' | 'negative'): { spans: Span[]; counts: number[] } {
    const b = side === 'positive' ? this.positive : this.negative;
    const spans: Span[] = [];
    let prevEnd: number | undefined;
    let start = 0;
    let length = 0;
    for (const i of b.idx) {
      if (length > 0 && i === start + length) {
        length++;
        continue;
      }
      if (length > 0) {
        spans.push({ offset: prevEnd === undefined ? start : start - prevEnd, length });
        prevEnd = start + length;
      }
      start = i;
      length = 1;
    }
    if (length > 0) spans.push({ offset: prevEnd === undefined ? start : start - prevEnd, length });
    return { spans, counts: b.cnt.slice() };
  }

  /** The test-file notation, `{{schema:0 count:4 sum:5 buckets:[1 2 1]}}`, for messages. */
  toString(): string {
    const parts: string[] = [];
    if (this.schema !== 0) parts.push(`schema:${this.schema}`);
    parts.push(`count:${fmt(this.count)}`, `sum:${fmt(this.sum)}`);
    if (this.zeroThreshold !== 0) parts.push(`z_bucket_w:${fmt(this.zeroThreshold)}`);
    if (this.zeroCount !== 0) parts.push(`z_bucket:${fmt(this.zeroCount)}`);
    if (this.usesCustomBuckets) parts.push(`custom_values:[${this.customValues.map(fmt).join(' ')}]`);
    for (const side of ['positive', 'negative'] as const) {
      const b = this[side];
      if (b.idx.length === 0) continue;
      const first = b.idx[0];
      const dense: number[] = [];
      for (let k = 0; k < b.idx.length; k++) {
        while (first + dense.length < b.idx[k]) dense.push(0);
        dense.push(b.cnt[k]);
      }
      const prefix = side === 'positive' ? '' : 'n_';
      if (first !== 0) parts.push(`${prefix}offset:${first}`);
      parts.push(`${prefix}buckets:[${dense.map(fmt).join(' ')}]`);
    }
    if (this.counterResetHint !== 'unknown') parts.push(`counter_reset_hint:${this.counterResetHint}`);
    return `{{${parts.join(' ')}}}`;
  }
}

function fmt(v: number): string {
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sameFloat(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameBuckets(a: Buckets, b: Buckets): boolean {
  return (
    a.idx.length === b.idx.length && a.idx.every((v, i) => v === b.idx[i] && sameFloat(a.cnt[i], b.cnt[i]))
  );
}

/** Upper bound of exponential bucket i (the lower bound of bucket i+1). */
export function exponentialBound(i: number, schema: number): number {
  return Math.pow(2, i * Math.pow(2, -schema));
}

function mergeBuckets(a: Buckets, b: Buckets, sign: 1 | -1): Buckets {
  const idx: number[] = [];
  const cnt: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.idx.length || j < b.idx.length) {
    if (j >= b.idx.length || (i < a.idx.length && a.idx[i] < b.idx[j])) {
      idx.push(a.idx[i]);
      cnt.push(a.cnt[i++]);
    } else if (i >= a.idx.length || b.idx[j] < a.idx[i]) {
      idx.push(b.idx[j]);
      cnt.push(sign * b.cnt[j++]);
    } else {
      idx.push(a.idx[i]);
      cnt.push(a.cnt[i++] + sign * b.cnt[j++]);
    }
  }
  return { idx, cnt };
}

/** Bucket i of schema s falls into bucket ((i-1) >> delta) + 1 of schema s - delta. */
function regroup(b: Buckets, delta: number): Buckets {
  const idx: number[] = [];
  const cnt: number[] = [];
  const div = Math.pow(2, delta);
  for (let k = 0; k < b.idx.length; k++) {
    const target = Math.floor((b.idx[k] - 1) / div) + 1;
    if (idx.length > 0 && idx[idx.length - 1] === target) cnt[cnt.length - 1] += b.cnt[k];
    else {
      idx.push(target);
      cnt.push(b.cnt[k]);
    }
  }
  return { idx, cnt };
}

function dropEmpty(b: Buckets): Buckets {
  const idx: number[] = [];
  const cnt: number[] = [];
  for (let k = 0; k < b.idx.length; k++) {
    if (b.cnt[k] === 0) continue;
    idx.push(b.idx[k]);
    cnt.push(b.cnt[k]);
  }
  return { idx, cnt };
}

/** Whether some bucket of before holds more than the same bucket of after. */
function decreased(before: Buckets, after: Buckets): boolean {
  let j = 0;
  for (let k = 0; k < before.idx.length; k++) {
    while (j < after.idx.length && after.idx[j] < before.idx[k]) j++;
    const now = j < after.idx.length && after.idx[j] === before.idx[k] ? after.cnt[j] : 0;
    if (before.cnt[k] > now) return true;
  }
  return false;
}

/**
 * Widens both zero buckets to the larger threshold. Buckets the wider zero bucket covers move
 * into it; one it cuts through extends the threshold to that bucket's upper bound.
 */
function reconcileZeroBuckets(a: FloatHistogram, b: FloatHistogram): void {
  let target = Math.max(a.zeroThreshold, b.zeroThreshold);
  for (;;) {
    const ta = widenZeroBucket(a, target);
    const tb = widenZeroBucket(b, Math.max(ta, target));
    if (ta === tb && tb === target) return;
    target = Math.max(ta, tb);
  }
}

function widenZeroBucket(h: FloatHistogram, threshold: number): number {
  let t = Math.max(threshold, h.zeroThreshold);
  for (const side of ['positive', 'negative'] as const) {
    const b = h[side];
    let k = 0;
    while (k < b.idx.length) {
      const [lo, hi] = h.bounds(b.idx[k]);
      if (lo >= t) break;
      h.zeroCount += b.cnt[k];
      if (hi > t) t = hi;
      k++;
    }
    if (k > 0) h[side] = { idx: b.idx.slice(k), cnt: b.cnt.slice(k) };
  }
  h.zeroThreshold = t;
  return t;
}

/**
 * A classic histogram's buckets (upper bounds with cumulative counts, in any order, +Inf
 * optional) as a native histogram with custom buckets. The count is `count` where the _count
 * series has a sample, else the +Inf bucket's.
 */
export function classicToCustomBuckets(
  buckets: ReadonlyArray<{ le: number; cumulative: number }>,
  count: number | undefined,
  sum: number | undefined,
): FloatHistogram {
  const sorted = buckets.slice().sort((a, b) => a.le - b.le);
  const finite = sorted.filter((b) => b.le !== Infinity);
  const inf = sorted.find((b) => b.le === Infinity);
  const idx: number[] = [];
  const cnt: number[] = [];
  let prev = 0;
  finite.forEach((b, i) => {
    idx.push(i);
    cnt.push(b.cumulative - prev);
    prev = b.cumulative;
  });
  const total = count ?? inf?.cumulative ?? prev;
  const top = (inf?.cumulative ?? total) - prev;
  if (top !== 0) {
    idx.push(finite.length);
    cnt.push(top);
  }
  return new FloatHistogram({
    schema: CUSTOM_BUCKETS_SCHEMA,
    count: total,
    sum: sum ?? 0,
    positive: { idx, cnt },
    customValues: finite.map((b) => b.le),
  });
}
