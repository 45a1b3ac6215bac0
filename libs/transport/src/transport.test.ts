import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  labelsFrom,
  labelsHash,
  PartitionedBatchBuilder,
  SampleBatchBuilder,
  shardOf,
  type SampleBatch,
} from '@pharos/model';
import {
  AlertBus,
  alertBatchCodec,
  InProcessLog,
  RECORD_MAX_SERIES,
  SampleBus,
  splitByPartition,
  type BusAlert,
} from './index.js';

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

  it('builds by partition what splitByPartition makes of the whole batch', () => {
    const whole = batchOf(50, 1);
    const b = new PartitionedBatchBuilder(4, 8);
    for (let i = 0; i < whole.refs.length; i++) b.push(whole.series[i], whole.timestamps[i], whole.values[i]);
    assert.equal(b.length, 50);
    assert.deepEqual(b.build(), splitByPartition(whole, 4));
  });

  it('refuses partition batches that do not match its partitions', async () => {
    const bus = new SampleBus(new InProcessLog<SampleBatch>(3));
    await assert.rejects(bus.publishPartitioned([batchOf(1, 1)]), /1 partition batches for a bus of 3/);
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

  it('says where each record went, and nothing for the partitions a batch does not touch', async () => {
    const bus = new SampleBus(new InProcessLog<SampleBatch>(8));
    const published = await bus.append(batchOf(1, 1));
    assert.equal(published.length, 1);
    assert.deepEqual(published[0], { partition: published[0].partition, offset: 0, samples: 1 });
  });

  it('writes a big batch as records of bounded size, in order, letting timers run between them', async () => {
    const bus = new SampleBus(new InProcessLog<SampleBatch>(2));
    const records: Array<{ partition: number; series: number; first: number }> = [];
    const sub = await bus.subscribe('ingester', [0, 1], async (partition, _o, b) => {
      records.push({ partition, series: b.series.length, first: b.values[0] });
    });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const n = 20 * RECORD_MAX_SERIES;
    const published = await bus.append(batchOf(n, 1));
    clearInterval(timer);
    await sub.drained();
    await sub.stop();
    assert.ok(records.length >= 20, `${records.length} records`);
    assert.ok(records.every((r) => r.series <= RECORD_MAX_SERIES));
    assert.equal(published.length, records.length);
    assert.equal(
      published.reduce((a, r) => a + r.samples, 0),
      n,
    );
    for (const p of [0, 1]) {
      const firsts = records.filter((r) => r.partition === p).map((r) => r.first);
      assert.deepEqual(
        firsts,
        [...firsts].sort((a, b) => a - b),
      );
    }
    assert.ok(ticks > 0, 'no timer ran while the batch was written');
  });
});

function alert(name: string, startsAt = 1000): BusAlert {
  return {
    labels: { alertname: name },
    annotations: { summary: `${name} is up` },
    startsAt,
    endsAt: 0,
    generatorURL: 'http://p/graph',
  };
}

describe('AlertBus', () => {
  it('hands every alert to each group, in order, and resumes a group from its commit', async () => {
    const log = new InProcessLog<BusAlert[]>(1);
    const bus = new AlertBus(log, { maxBatch: 2 });
    // The in-process log trims what every group it knows has committed: both groups join first.
    const seen: Record<string, string[]> = { one: [], two: [] };
    const subs = await Promise.all(
      ['one', 'two'].map((g) =>
        bus.subscribe(g, (as) => void seen[g].push(...as.map((a) => a.labels.alertname))),
      ),
    );
    bus.publish([alert('A'), alert('B'), alert('C')]);
    await bus.flushed();
    assert.equal(log.endOffset(0), 2, 'three alerts in records of at most two');
    for (const sub of subs) {
      await sub.drained();
      await sub.stop();
    }
    assert.deepEqual(seen, { one: ['A', 'B', 'C'], two: ['A', 'B', 'C'] });
    bus.publish([alert('D')]);
    await bus.flushed();
    const again: string[] = [];
    const sub = await bus.subscribe('one', (as) => void again.push(...as.map((a) => a.labels.alertname)));
    await sub.drained();
    await sub.stop();
    assert.deepEqual(again, ['D'], 'group one resumed after what it had committed');
  });

  it('waits for a log still opening, retries a failing one, and drops the oldest past its bound', async () => {
    const log = new InProcessLog<BusAlert[]>(1);
    let failures = 2;
    const flaky = {
      partitions: 1,
      append: (p: number, v: BusAlert[]) =>
        failures-- > 0 ? Promise.reject(new Error('broker away')) : log.append(p, v),
      subscribe: log.subscribe.bind(log),
      endOffset: log.endOffset.bind(log),
      close: log.close.bind(log),
    };
    let open!: () => void;
    const opening = new Promise<typeof flaky>((r) => (open = () => r(flaky)));
    let dropped = 0;
    const errors: string[] = [];
    const bus = new AlertBus(opening, {
      capacity: 3,
      onDrop: (n) => (dropped += n),
      onError: (e) => errors.push(String(e)),
    });
    bus.publish([alert('A'), alert('B')]);
    bus.publish([alert('C'), alert('D')]);
    assert.equal(bus.queued, 3);
    assert.equal(dropped, 1);
    open();
    await bus.flushed();
    assert.equal(errors.length, 2);
    const got: string[] = [];
    const sub = await bus.subscribe('g', (as) => void got.push(...as.map((a) => a.labels.alertname)));
    await sub.drained();
    await sub.stop();
    assert.deepEqual(got, ['B', 'C', 'D'], 'the oldest alert went, the rest arrived once');
  });

  it('refuses records that are not alerts', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(alertBatchCodec.decode(alertBatchCodec.encode([alert('A')])), [alert('A')]);
    assert.throws(() => alertBatchCodec.decode(enc('{"labels":{}}')), /not a JSON array/);
    assert.throws(() => alertBatchCodec.decode(enc('[{"labels":{"a":1}}]')), /labels\.a: not a string/);
    assert.throws(() => alertBatchCodec.decode(enc('[{"labels":{},"startsAt":"x"}]')), /startsAt/);
    assert.throws(() => alertBatchCodec.decode(enc('[{')), SyntaxError);
  });
});
