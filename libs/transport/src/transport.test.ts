import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsFrom, labelsHash, SampleBatchBuilder, shardOf, type SampleBatch } from '@pharos/model';
import { InProcessLog, SampleBus, splitByPartition } from './index.js';

function batchOf(n: number, t: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < n; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), t, i);
  return b.build();
}

describe('InProcessLog', () => {
  it('delivers in order from an offset and resumes from the committed one', async () => {
    const log = new InProcessLog<string>(2);
    for (const v of ['a', 'b', 'c']) await log.append(1, v);
    const seen: string[] = [];
    const sub = log.consume(1, 1, async (off, v) => {
      seen.push(`${off}:${v}`);
    });
    await sub.drained();
    await log.append(1, 'd');
    await sub.drained();
    await sub.stop();
    assert.deepEqual(seen, ['1:b', '2:c', '3:d']);
    await log.commit('g', 1, 3);
    assert.equal(await log.committed('g', 1), 3);
    assert.equal(await log.committed('other', 0), 0);
    assert.equal(log.endOffset(1), 4);
  });

  it('trims what every group has committed, keeping offsets stable', async () => {
    const log = new InProcessLog<number>(1);
    for (let i = 0; i < 5; i++) await log.append(0, i);
    await log.commit('g', 0, 3);
    const seen: number[] = [];
    const sub = log.consume(0, 0, async (off) => {
      seen.push(off);
    });
    await sub.drained();
    await sub.stop();
    assert.deepEqual(seen, [3, 4]);
  });

  it('rejects a partition out of range', async () => {
    await assert.rejects(new InProcessLog<number>(2).append(2, 1), /out of range/);
  });
});

describe('SampleBus', () => {
  it('splits a batch so each series goes to the partition of its hash', () => {
    const batch = batchOf(50, 1000);
    const parts = splitByPartition(batch, 4);
    let total = 0;
    parts.forEach((b, p) => {
      if (!b) return;
      total += b.refs.length;
      for (const s of b.series) assert.equal(shardOf(labelsHash(s), 4), p);
    });
    assert.equal(total, 50);
  });

  it('publishes and consumes every sample exactly once', async () => {
    const bus = new SampleBus(new InProcessLog<SampleBatch>(3));
    let got = 0;
    const sub = await bus.subscribe('ingester', [0, 1, 2], async (_p, _o, b) => {
      got += b.refs.length;
    });
    await bus.publish(batchOf(30, 1));
    await bus.publish(batchOf(30, 2));
    await sub.drained();
    await sub.stop();
    assert.equal(got, 60);
  });
});
