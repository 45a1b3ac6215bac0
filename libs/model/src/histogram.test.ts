import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUSTOM_BUCKETS_SCHEMA, FloatHistogram, HistogramMixError, classicToCustomBuckets } from './index.js';

const exp = (schema: number, idx: number[], cnt: number[], extra: Partial<FloatHistogram> = {}) =>
  new FloatHistogram({
    schema,
    count: cnt.reduce((a, b) => a + b, 0) + (extra.zeroCount ?? 0),
    sum: 10,
    positive: { idx, cnt },
    ...extra,
  });

describe('native histograms', () => {
  it('places exponential and custom bucket bounds as the schema says', () => {
    const cases: Array<[number, number, [number, number]]> = [
      [0, 0, [0.5, 1]],
      [0, 1, [1, 2]],
      [0, -1, [0.25, 0.5]],
      [1, 1, [1, Math.SQRT2]],
      [-1, 1, [1, 4]],
      [3, 8, [Math.pow(2, 7 / 8), 2]],
    ];
    for (const [schema, i, want] of cases) {
      const [lo, hi] = new FloatHistogram({ schema }).bounds(i);
      assert.ok(
        Math.abs(lo - want[0]) < 1e-12 && Math.abs(hi - want[1]) < 1e-12,
        `schema ${schema} bucket ${i}`,
      );
    }
    const cb = new FloatHistogram({ schema: CUSTOM_BUCKETS_SCHEMA, customValues: [1, 5] });
    assert.deepEqual(
      [cb.bounds(0), cb.bounds(1), cb.bounds(2)],
      [
        [-Infinity, 1],
        [1, 5],
        [5, Infinity],
      ],
    );
  });

  it('adds at the coarser schema, merging buckets that fall together', () => {
    // Schema 1 buckets 1 and 2 are (1,√2] and (√2,2]: both fall into schema 0 bucket 1, (1,2].
    const sum = exp(0, [1], [1]).add(exp(1, [1, 2, 3], [2, 3, 4]));
    assert.equal(sum.schema, 0);
    assert.deepEqual(sum.positive, { idx: [1, 2], cnt: [6, 4] });
    assert.equal(sum.count, 10);
    assert.equal(sum.sum, 20);
  });

  it('widens the zero bucket to the larger threshold, taking the buckets it covers', () => {
    const a = exp(0, [0, 1], [1, 2], { zeroThreshold: 0.5, zeroCount: 3 });
    const b = exp(0, [-2, -1, 0, 1], [1, 1, 1, 1], { zeroThreshold: 0.1, zeroCount: 1 });
    const sum = a.add(b);
    // b's buckets (0.125,0.25] and (0.25,0.5] are inside [-0.5,0.5].
    assert.equal(sum.zeroThreshold, 0.5);
    assert.equal(sum.zeroCount, 6);
    assert.deepEqual(sum.positive, { idx: [0, 1], cnt: [2, 3] });
  });

  it('refuses to combine exponential with custom buckets, and reconciles custom bounds', () => {
    const cb = (cv: number[], cnt: number[]) =>
      new FloatHistogram({
        schema: CUSTOM_BUCKETS_SCHEMA,
        customValues: cv,
        count: cnt.reduce((a, b) => a + b, 0),
        positive: { idx: cnt.map((_, i) => i), cnt },
      });
    assert.throws(() => exp(0, [1], [1]).add(cb([1], [1, 1])), HistogramMixError);
    const notes = { reconciled: false };
    const sum = cb([1, 2, 5], [1, 1, 1, 1]).add(cb([1, 5], [2, 2, 2]), notes);
    assert.equal(notes.reconciled, true);
    assert.deepEqual(sum.customValues, [1, 5]);
    assert.deepEqual(sum.positive, { idx: [0, 1, 2], cnt: [3, 4, 3] });
  });

  it('detects counter resets as Prometheus does', () => {
    const prev = exp(0, [0, 1], [2, 2]);
    const cases: Array<[string, FloatHistogram, boolean]> = [
      ['growth', exp(0, [0, 1], [3, 2]), false],
      ['a bucket went down', exp(0, [0, 1, 2], [1, 2, 5]), true],
      ['the count went down', exp(0, [0, 1], [2, 1]), true],
      ['a coarser schema that adds up', exp(-1, [0, 1], [2, 3]), false],
      ['a finer schema', exp(1, [0, 2], [2, 2]), true],
      [
        'hinted as a reset',
        new FloatHistogram({ ...exp(0, [0, 1], [3, 3]), counterResetHint: 'reset' }),
        true,
      ],
    ];
    for (const [name, cur, want] of cases) assert.equal(cur.detectReset(prev), want, name);
  });

  it('converts classic buckets to custom buckets', () => {
    const h = classicToCustomBuckets(
      [
        { le: Infinity, cumulative: 10 },
        { le: 0.5, cumulative: 4 },
        { le: 0.1, cumulative: 1 },
      ],
      undefined,
      3.2,
    );
    assert.deepEqual(h.customValues, [0.1, 0.5]);
    assert.deepEqual(h.positive, { idx: [0, 1, 2], cnt: [1, 3, 6] });
    assert.equal(h.count, 10);
    assert.equal(h.toString(), '{{schema:-53 count:10 sum:3.2 custom_values:[0.1 0.5] buckets:[1 3 6]}}');
  });

  it('gives spans as the exposition and remote write formats number them', () => {
    const h = exp(0, [-2, -1, 3, 4, 5], [1, 1, 1, 1, 1]);
    assert.deepEqual(h.spans('positive').spans, [
      { offset: -2, length: 2 },
      { offset: 3, length: 3 },
    ]);
  });
});
