import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandStartToken, parseTestFile, TestFileError } from './testfile.js';

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
