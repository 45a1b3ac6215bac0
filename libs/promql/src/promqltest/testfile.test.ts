import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandStartToken, parseSeriesLine, parseTestFile, TestFileError } from './testfile.js';

describe('test file: start timestamp lines', () => {
  const cases: Array<[string, Array<number | null>]> = [
    ['_', [null]],
    ['_x2', [null, null]],
    ['0', [0]],
    ['-0ms', [0]],
    ['+1m', [60_000]],
    ['1ms', [1]],
    ['-59999msx2', [-59_999, -59_999, -59_999]],
    ['-30s-1mx2', [-30_000, -90_000, -150_000]],
    ['0-1mx1', [0, -60_000]],
    ['-1m30s', [-90_000]],
  ];
  for (const [tok, want] of cases) {
    it(tok, () => assert.deepEqual(expandStartToken(tok, 1), want));
  }

  it('refuses what is not a duration', () => {
    assert.throws(() => expandStartToken('1.5', 3), TestFileError);
    assert.throws(() => expandStartToken('{{schema:0}}', 3), /line 3: invalid start timestamp/);
  });

  it('attaches the offsets to the series with the same labels, in either order', () => {
    const [load] = parseTestFile(
      ['load 1m', '  a{x="1"}@st _ -1m', '  a{x="1"} 1 2', '  b 1 2', '  b@st 0 0'].join('\n'),
    );
    assert.equal(load.kind, 'load');
    if (load.kind !== 'load') return;
    assert.deepEqual(load.series[0].startOffsets, [null, -60_000]);
    assert.deepEqual(load.series[1].startOffsets, [0, 0]);
  });
});

describe('test file: native histogram literals', () => {
  const cases: Array<[string, string[]]> = [
    ['{{}}', ['{{count:0 sum:0}}']],
    ['{{schema:1 sum:5 count:4 buckets:[1 2 1]}}', ['{{schema:1 count:4 sum:5 buckets:[1 2 1]}}']],
    [
      '{{sum:-0.3 count:3 z_bucket:1 z_bucket_w:0.5 n_buckets:[2] n_offset:-1 counter_reset_hint:gauge}}',
      ['{{count:3 sum:-0.3 z_bucket_w:0.5 z_bucket:1 n_offset:-1 n_buckets:[2] counter_reset_hint:gauge}}'],
    ],
    ['{{count:1 sum:1 buckets:[1]}}x2', Array(3).fill('{{count:1 sum:1 buckets:[1]}}')],
    [
      '{{count:1 sum:1 buckets:[1]}}+{{count:2 sum:3 buckets:[1 1] offset:1}}x2',
      [
        '{{count:1 sum:1 buckets:[1]}}',
        '{{count:3 sum:4 buckets:[1 1 1]}}',
        '{{count:5 sum:7 buckets:[1 2 2]}}',
      ],
    ],
  ];
  for (const [tok, want] of cases) {
    it(tok, () => {
      const [s] = (parseTestFile(`load 1m\n  m ${tok}\n`)[0] as { series: Array<{ values: unknown[] }> })
        .series;
      assert.deepEqual(
        s.values.map((v) => (v as { h: { toString(): string } }).h.toString()),
        want,
      );
    });
  }

  it('refuses unknown fields with the line', () => {
    assert.throws(() => parseTestFile('load 1m\n  m {{bogus:1}}\n'), /line 2: unknown histogram field bogus/);
  });
});

describe('test file: series values', () => {
  it('expands a long repetition (a spread of its values overflowed the stack)', () => {
    const line = parseSeriesLine('up{job="a"} 0x176400 5', 1);
    assert.equal(line.values.length, 176_400 + 2);
    assert.deepEqual(line.values[176_400], { kind: 'float', v: 0 });
    assert.deepEqual(line.values[176_401], { kind: 'float', v: 5 });
  });

  it('expands each form once and in order', () => {
    const line = parseSeriesLine('a 1+2x2 _x2 _ stale 7', 1);
    assert.deepEqual(
      line.values.map((v) => (v.kind === 'float' ? (Number.isNaN(v.v) ? 'stale' : v.v) : v.kind)),
      [1, 3, 5, 'omitted', 'omitted', 'omitted', 'stale', 7],
    );
  });
});
