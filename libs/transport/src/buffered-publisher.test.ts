import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsFrom, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import { BufferedPublisher } from './index.js';

function batch(v: number, n = 10): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < n; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), v * 1000, v);
  return b.build();
}

describe('BufferedPublisher', () => {
  it('never waits for a failing bus, keeps order, drops past the bound and counts it', async () => {
    let up = false;
    const sent: number[] = [];
    let failures = 0;
    let dropped = 0;
    const pub = new BufferedPublisher(
      async (b) => {
        if (!up) {
          failures++;
          throw new Error('broker unreachable');
        }
        sent.push(b.values[0]);
      },
      { maxSamples: 30, retryMs: 5, maxRetryMs: 20, onDrop: (n) => (dropped += n) },
    );
    for (let v = 1; v <= 4; v++) await pub.publish(batch(v)); // resolves at once each time
    assert.equal(pub.bufferedSamples, 30);
    assert.equal(dropped, 10, 'the fourth batch did not fit');
    await new Promise((r) => setTimeout(r, 60));
    assert.ok(failures >= 2, 'it kept retrying');
    assert.deepEqual(sent, []);
    up = true;
    assert.equal(await pub.flush(5000), true);
    assert.deepEqual(sent, [1, 2, 3]);
    assert.equal(pub.bufferedSamples, 0);
    await pub.publish(batch(5));
    assert.equal(await pub.flush(5000), true);
    assert.deepEqual(sent, [1, 2, 3, 5]);
  });

  it('gives up on close, counting what it could not send', async () => {
    let dropped = 0;
    const pub = new BufferedPublisher(
      async () => {
        throw new Error('down');
      },
      { maxSamples: 100, retryMs: 5, onDrop: (n) => (dropped += n) },
    );
    await pub.publish(batch(1));
    await pub.publish(batch(2));
    assert.equal(await pub.flush(30), false);
    pub.close();
    assert.equal(dropped, 20);
    assert.equal(pub.bufferedSamples, 0);
  });
});
