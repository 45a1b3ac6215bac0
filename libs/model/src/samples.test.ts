import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chunkBatch, labelsFrom, SampleBatchBuilder, type SampleBatch } from './index.js';

/** Each sample as (series name, timestamp, value), in order. */
function rows(b: SampleBatch): Array<[string, number, number]> {
  return [...b.refs].map((r, i) => [b.series[r][0].value, b.timestamps[i], b.values[i]]);
}

describe('chunkBatch', () => {
  it('cuts a batch into bounded runs that hold every sample, in order, and name only their series', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.nat(), { maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        (nSeries, picks, maxSeries, maxSamples) => {
          const b = new SampleBatchBuilder();
          for (let i = 0; i < nSeries; i++) b.addSeries(labelsFrom({ __name__: `s${i}` }));
          picks.forEach((p, i) => b.add(p % nSeries, i, p));
          const batch = b.build();
          const chunks = chunkBatch(batch, maxSeries, maxSamples);
          assert.deepEqual(chunks.flatMap(rows), rows(batch));
          if (chunks.length === 1 && chunks[0] === batch) return;
          for (const c of chunks) {
            assert.ok(c.refs.length > 0 && c.refs.length <= maxSamples);
            assert.ok(c.series.length <= maxSeries);
            // Every series listed is sampled, and its hash travels with it.
            assert.equal(new Set(c.refs).size, c.series.length);
            c.series.forEach((s, i) => assert.equal(c.hashes[i], batch.hashes[batch.series.indexOf(s)]));
          }
        },
      ),
    );
  });

  it('gives a batch within the bounds back as it is', () => {
    const b = new SampleBatchBuilder();
    b.push(labelsFrom({ __name__: 'up' }), 1, 1);
    const batch = b.build();
    assert.equal(chunkBatch(batch, 1, 1)[0], batch);
  });
});
