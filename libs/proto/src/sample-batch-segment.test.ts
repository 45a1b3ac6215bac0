import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { labelsFrom, SampleBatchBuilder, STALE_NAN, type Labels, type SampleBatch } from '@pharos/model';
import { encodeSampleBatch, SampleBatchSegmentCodec } from './index.js';

const HEADER = 8;

function bits(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
}

/** What a log file holds: a copy of each record, since the writer reuses its buffer. */
function write(batches: SampleBatch[]): Uint8Array[] {
  const w = new SampleBatchSegmentCodec();
  return batches.map((b) => Uint8Array.from(w.encodeFramed(b, HEADER).subarray(HEADER)));
}

function assertSame(got: SampleBatch, want: SampleBatch): void {
  assert.deepEqual(got.series, want.series);
  assert.deepEqual(got.hashes, want.hashes);
  assert.deepEqual([...got.refs], [...want.refs]);
  assert.deepEqual([...got.timestamps], [...want.timestamps]);
  assert.equal(bits(got.values), bits(want.values));
}

const pool: Labels[] = Array.from({ length: 6 }, (_, i) => labelsFrom({ __name__: 'm', i: String(i) }));

/** Batches over a pool of series, some label sets handed in as fresh but equal objects. */
const batches = fc.array(
  fc.array(
    fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.double()),
    { maxLength: 20 },
  ),
  { minLength: 1, maxLength: 6 },
);

function build(rows: Array<[number, boolean, number, number]>, sameTime: boolean): SampleBatch {
  const b = new SampleBatchBuilder();
  for (const [s, fresh, dt, v] of rows) {
    const labels = fresh ? labelsFrom({ __name__: 'm', i: String(s) }) : pool[s];
    b.push(labels, 1_700_000_000_000 + (sameTime ? 0 : dt * 1000), v);
  }
  b.push(pool[0], 1_700_000_000_000, STALE_NAN);
  return b.build();
}

describe('sample batch segment codec', () => {
  it('round-trips batches in order, bit for bit, one or many timestamps', () => {
    fc.assert(
      fc.property(batches, fc.boolean(), (rowsList, sameTime) => {
        const input = rowsList.map((rows) => build(rows, sameTime));
        const r = new SampleBatchSegmentCodec();
        write(input).forEach((rec, i) => assertSame(r.decode(rec), input[i]));
      }),
    );
  });

  it('reads the records after a replay start, having skipped the ones before it', () => {
    fc.assert(
      fc.property(batches, fc.nat(), (rowsList, k) => {
        const input = rowsList.map((rows) => build(rows, true));
        const records = write(input);
        const from = k % records.length;
        const r = new SampleBatchSegmentCodec();
        records.forEach((rec, i) => (i < from ? r.skip(rec) : assertSame(r.decode(rec), input[i])));
      }),
    );
  });

  it('spells a series out in its first record only, even when it comes back as another equal object', () => {
    const first = build([[1, false, 0, 1]], true);
    const again = build([[1, true, 0, 2]], true);
    const [a, b] = write([first, again]);
    const defined = (rec: Uint8Array) => Buffer.from(rec).includes(Buffer.from('i\x12\x011'));
    assert.ok(defined(a));
    assert.ok(!defined(b), 'the second record names the series by number');
    // A scrape of 100k series was 160 bytes a sample; a record after the first is now the columns.
    assert.ok(b.length < 40, `${b.length} bytes`);
  });

  it('still reads whole SampleBatch messages, the records of older logs', () => {
    const batch = build(
      [
        [2, false, 0, 7],
        [3, false, 1, 8],
      ],
      false,
    );
    const r = new SampleBatchSegmentCodec();
    assertSame(r.decode(encodeSampleBatch(batch)), batch);
    r.skip(encodeSampleBatch(batch));
  });

  it('refuses a record that names a series its segment never defined, or is cut short', () => {
    const [, second] = write([build([[1, false, 0, 1]], true), build([[1, false, 0, 2]], true)]);
    assert.throws(() => new SampleBatchSegmentCodec().decode(second), /not defined in this segment/);
    const [only] = write([build([[1, false, 0, 1]], true)]);
    for (const cut of [1, 5, only.length - 1])
      assert.throws(() => new SampleBatchSegmentCodec().decode(only.subarray(0, cut)), /sample record/);
  });
});
