import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { labelsFrom, SampleBatchBuilder, STALE_NAN } from '@pharos/model';
import {
  decodeSampleBatch,
  encodeSampleBatch,
  encodeSeries,
  SampleBatch as SampleBatchMsg,
  Series as SeriesMsg,
  sampleBatchToProto,
} from './index.js';

function bits(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
}

describe('sample batch codec', () => {
  it('round-trips values bit for bit, staleness markers included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 4 }),
            fc.integer().map((x) => x * 1000),
            fc.double(),
          ),
          {
            maxLength: 60,
          },
        ),
        (rows) => {
          const b = new SampleBatchBuilder();
          for (let i = 0; i < 5; i++) b.addSeries(labelsFrom({ __name__: 'm', i: String(i) }));
          for (const [s, t, v] of rows) b.add(s, t, v);
          b.add(0, 1, STALE_NAN);
          b.add(1, 2, -0);
          const batch = b.build();
          const back = decodeSampleBatch(encodeSampleBatch(batch));
          assert.deepEqual(back.series, batch.series);
          assert.deepEqual(back.hashes, batch.hashes);
          assert.deepEqual([...back.refs], [...batch.refs]);
          assert.deepEqual([...back.timestamps], [...batch.timestamps]);
          assert.equal(bits(back.values), bits(batch.values));
        },
      ),
    );
  });

  it('writes exactly the bytes of the generated encoder, also when series are reused from a cache', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), fc.string({ maxLength: 300 })), { maxLength: 8 }),
        fc.array(fc.double(), { maxLength: 40 }),
        (pairs, values) => {
          const labels = labelsFrom(
            Object.fromEntries([['__name__', 'm'], ...pairs.filter(([k]) => k !== '')]),
          );
          for (let round = 0; round < 2; round++) {
            const b = new SampleBatchBuilder();
            const idx = b.addSeries(labels);
            values.forEach((v, i) => b.add(idx, i, v));
            const batch = b.build();
            assert.deepEqual(
              encodeSampleBatch(batch),
              SampleBatchMsg.encode(sampleBatchToProto(batch)).finish(),
            );
          }
        },
      ),
    );
  });

  it('writes series as the generated encoder does, for any text: multi-byte, lone surrogates, empty values', () => {
    const text = fc.string({ unit: 'binary', maxLength: 200 });
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 12 }), text, (pairs, hash) => {
        const labels = pairs.map(([name, value]) => ({ name, value }));
        assert.deepEqual(
          Buffer.from(encodeSeries(labels, hash)),
          Buffer.from(SeriesMsg.encode({ labels, hash }).finish()),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('decodes from a Buffer inside a larger one, as read from a log file', () => {
    const b = new SampleBatchBuilder();
    b.push(labelsFrom({ __name__: 'm' }), 1_700_000_000_000, 42);
    const enc = encodeSampleBatch(b.build());
    const file = Buffer.concat([Buffer.from('junk-before'), Buffer.from(enc), Buffer.from('after')]);
    const back = decodeSampleBatch(file.subarray(11, 11 + enc.length));
    assert.deepEqual([...back.timestamps], [1_700_000_000_000]);
    assert.deepEqual([...back.values], [42]);
  });

  it('rejects a batch whose samples point past its series', () => {
    const msg = SampleBatchMsg.encode({
      series: [],
      refs: Uint8Array.of(1, 0, 0, 0),
      timestamps: new Uint8Array(8),
      values: new Uint8Array(8),
    }).finish();
    assert.throws(() => decodeSampleBatch(msg), /refers to series 1 of 0/);
  });

  it('rejects truncated columns and garbage', () => {
    const msg = SampleBatchMsg.encode({
      series: [{ labels: [], hash: '' }],
      refs: Uint8Array.of(0, 0, 0, 0),
      timestamps: new Uint8Array(7),
      values: new Uint8Array(8),
    }).finish();
    assert.throws(() => decodeSampleBatch(msg), /column of 7 bytes/);
    assert.throws(() => decodeSampleBatch(Uint8Array.of(0xff, 0xff, 0xff)));
  });
});
