import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EMPTY_LABELS,
  formatLabels,
  formatValue,
  LabelMatcher,
  setLabelsSlot,
  type Slotted,
  labelsFrom,
  labelsHash,
  prometheusLabelsHash,
  labelsKey,
  validateSeriesLabels,
} from './index.js';

describe('labels', () => {
  it('sorts, drops empty values and rejects duplicates', () => {
    assert.deepEqual(labelsFrom({ b: '2', a: '1', c: '' }), [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);
    assert.throws(
      () =>
        labelsFrom([
          { name: 'a', value: '1' },
          { name: 'a', value: '2' },
        ]),
      /duplicate label name "a"/,
    );
  });

  it('has a stable 64-bit hash (golden value)', () => {
    const ls = labelsFrom({ __name__: 'up', job: 'node', instance: 'localhost:9100' });
    assert.equal(
      labelsHash(ls),
      labelsHash(labelsFrom({ instance: 'localhost:9100', job: 'node', __name__: 'up' })),
    );
    assert.match(labelsHash(ls), /^[0-9a-f]{16}$/);
    // Cross-checked with an independent xxHash64 (python xxhash) over the canonical key.
    assert.equal(labelsHash(ls), 'aebd11132184a0f3');
  });

  it("computes Prometheus' labels.Hash() for sampling that must agree with it", () => {
    // xxhash.xxh64(b'__name__\xffup\xffjob\xffapi\xff') in python.
    assert.equal(prometheusLabelsHash(labelsFrom({ job: 'api', __name__: 'up' })), 2852606813363628783n);
  });

  it('keys cannot collide through separators inside values', () => {
    const a = labelsKey(labelsFrom({ a: 'x1:b', c: 'y' }));
    const b = labelsKey(labelsFrom({ a: 'x', b: 'y' }));
    assert.notEqual(a, b);
  });

  it('formats like Prometheus, quoting UTF-8 names', () => {
    assert.equal(formatLabels(labelsFrom({ __name__: 'up', job: 'x' })), 'up{job="x"}');
    assert.equal(formatLabels(labelsFrom({ __name__: 'up' })), 'up');
    assert.equal(formatLabels(labelsFrom({ job: 'x' })), '{job="x"}');
    assert.equal(formatLabels(labelsFrom({ __name__: 'a.b', 'c.d': 'e' })), '{"a.b", "c.d"="e"}');
  });

  const validation: Array<[Record<string, string>, string | null]> = [
    [{ __name__: 'up' }, null],
    [{ __name__: 'http.requests', 'svc.name': 'a' }, null],
    [{ job: 'x' }, 'series has no metric name'],
  ];
  for (const [rec, want] of validation) {
    it(`validates ${JSON.stringify(rec)}`, () => assert.equal(validateSeriesLabels(labelsFrom(rec)), want));
  }
  it('applies the legacy scheme on request', () => {
    assert.match(
      validateSeriesLabels(labelsFrom({ __name__: 'a.b' }), 'legacy') ?? '',
      /invalid metric name/,
    );
  });
});

describe('formatValue', () => {
  const rows: Array<[number, string]> = [
    [1, '1'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [1e21, '1e+21'],
    [1.5e-7, '1.5e-07'],
    [123456789012, '123456789012'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ];
  for (const [v, s] of rows) it(`${v} -> ${s}`, () => assert.equal(formatValue(v), s));
});

describe('LabelMatcher', () => {
  const rows: Array<[LabelMatcher, string, boolean]> = [
    [new LabelMatcher('=', 'a', 'x'), 'x', true],
    [new LabelMatcher('!=', 'a', 'x'), 'x', false],
    [new LabelMatcher('=~', 'a', 'x|y'), 'y', true],
    [new LabelMatcher('=~', 'a', 'x|y'), 'xy', false],
    [new LabelMatcher('!~', 'a', 'x.*'), 'xyz', false],
    [new LabelMatcher('=~', 'a', '.*'), '', true],
  ];
  for (const [m, v, want] of rows) it(`${m} on ${JSON.stringify(v)}`, () => assert.equal(m.matches(v), want));
});

describe('label set slots', () => {
  it('remember a value per label set object, invisibly to comparison and serialisation', () => {
    const slot = Symbol('test');
    const get = (l: typeof a) => (l as Slotted<number>)[slot];
    const a = labelsFrom({ __name__: 'm', k: 'v' });
    const b = labelsFrom({ __name__: 'm', k: 'v' });
    assert.equal(get(a), undefined);
    setLabelsSlot(a, slot, 1);
    setLabelsSlot(a, slot, 2);
    assert.equal(get(a), 2);
    assert.equal(get(b), undefined, 'an equal label set is another object');
    assert.deepStrictEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.deepEqual(Object.keys(a), Object.keys(b));
    setLabelsSlot(EMPTY_LABELS, slot, 3);
    assert.equal(get(EMPTY_LABELS), undefined, 'a frozen label set remembers nothing');
  });
});
