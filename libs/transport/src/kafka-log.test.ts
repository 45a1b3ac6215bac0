import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { labelsFrom, labelsHash, SampleBatchBuilder, shardOf, type SampleBatch } from '@pharos/model';
import {
  AlertBus,
  BufferedPublisher,
  openAlertTopic,
  KafkaLog,
  SampleBus,
  type KafkaCompression,
  type KafkaLogOptions,
  type RecordCodec,
} from './index.js';
import { snappyFrame, snappyUnframe } from './kafka-snappy.js';
import { startTestBroker, type TestBroker } from './testing/kafka-broker.js';

const text: RecordCodec<string> = {
  encode: (s) => new TextEncoder().encode(s),
  decode: (b) => new TextDecoder().decode(b),
};

let broker!: TestBroker;
const open: Array<KafkaLog<unknown>> = [];
before(() => {
  broker = startTestBroker();
});
after(async () => {
  await Promise.all(open.map((l) => l.close()));
  broker?.close();
});

const topicName = () => `test.${randomBytes(4).toString('hex')}`;

async function textLog(topic: string, partitions: number, compression: KafkaCompression = 'none') {
  const log = await KafkaLog.open({
    brokers: broker.brokers,
    topic,
    partitions,
    clientId: 'pharos-test',
    codec: text,
    compression,
  });
  open.push(log as KafkaLog<unknown>);
  return log;
}

/** A sample bus on a new topic, its records in the protobuf the services exchange. */
async function sampleBus(partitions: number, extra: Partial<KafkaLogOptions<SampleBatch>>) {
  const { encodeSampleBatch, decodeSampleBatch } = await import('@pharos/proto');
  const log = await KafkaLog.open<SampleBatch>({
    brokers: broker.brokers,
    topic: topicName(),
    partitions,
    clientId: 'pharos-test',
    codec: { encode: encodeSampleBatch, decode: decodeSampleBatch },
    ...extra,
  });
  open.push(log as KafkaLog<unknown>);
  return new SampleBus(log);
}

/** Reads partition `p` for a fresh group (from the start), or for `group` from its commit. */
async function readAll(log: KafkaLog<string>, p: number, group = `reader-${randomBytes(4).toString('hex')}`) {
  const seen: string[] = [];
  const sub = await log.subscribe(group, [p], async (_p, off, v) => {
    seen.push(`${off}:${v}`);
  });
  await sub.drained();
  await sub.stop();
  return seen;
}

describe('KafkaLog on a real broker', () => {
  it('creates the topic with the configured partitions and refuses a different count', async () => {
    const topic = topicName();
    await textLog(topic, 4);
    const kafka = new kafkajs.Kafka({
      clientId: 'check',
      brokers: broker.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    assert.equal(meta.topics[0].partitions.length, 4);
    await textLog(topic, 4); // an existing topic of the right size is fine
    await assert.rejects(textLog(topic, 2), /has 4 partitions but 2 are configured/);
  });

  it('appends in order per partition and reads each partition back', async () => {
    const log = await textLog(topicName(), 2);
    const offsets: number[] = [];
    for (const v of ['a', 'b', 'c']) offsets.push(await log.append(1, v));
    assert.deepEqual(offsets, [0, 1, 2]);
    assert.equal(await log.append(0, 'x'), 0);
    assert.equal(log.endOffset(1), 3);
    assert.deepEqual(await readAll(log, 1), ['0:a', '1:b', '2:c']);
    assert.deepEqual(await readAll(log, 0), ['0:x']);
    await assert.rejects(log.append(2, 'y'), /out of range/);
  });

  it('commits per group only when told, so a restarted member resumes from the commit', async () => {
    const topic = topicName();
    const log = await textLog(topic, 2);
    for (const v of ['a', 'b', 'c', 'd']) await log.append(0, v);
    await log.append(1, 'z');
    assert.equal(await log.committed('ingesters', 0), 0);
    const seen: string[] = [];
    const sub = await log.subscribe('ingesters', [0, 1], async (p, off, v) => {
      seen.push(`${p}/${off}:${v}`);
    });
    await sub.drained();
    assert.deepEqual(seen.sort(), ['0/0:a', '0/1:b', '0/2:c', '0/3:d', '1/0:z']);
    await sub.pause();
    await sub.commit(0, 2); // as if only a and b were durable
    await sub.stop();
    assert.equal(await log.committed('ingesters', 0), 2);
    assert.equal(await log.committed('ingesters', 1), 0, 'partition 1 was not committed');
    assert.equal(await log.committed('replicas', 0), 0, 'another group has its own offsets');
    await log.close();
    const again = await textLog(topic, 2);
    assert.equal(again.endOffset(0), 4);
    assert.deepEqual(await readAll(again, 0, 'ingesters'), ['2:c', '3:d']);
  });

  it('lets two members of a group read the partitions each declares', async () => {
    const log = await textLog(topicName(), 4);
    for (let p = 0; p < 4; p++) await log.append(p, `v${p}`);
    const seen: Record<string, string[]> = { first: [], second: [] };
    const first = await log.subscribe('pair', [0, 1], async (p) => void seen.first.push(`p${p}`));
    const second = await log.subscribe('pair', [2, 3], async (p) => void seen.second.push(`p${p}`));
    await Promise.all([first.drained(), second.drained()]);
    await Promise.all([first.stop(), second.stop()]);
    assert.deepEqual(seen.first.sort(), ['p0', 'p1']);
    assert.deepEqual(seen.second.sort(), ['p2', 'p3']);
  });

  it('delivers records appended while it reads, and retries a failing handler instead of skipping', async () => {
    const log = await textLog(topicName(), 1);
    const seen: string[] = [];
    let failures = 0;
    const sub = await log.subscribe('flaky', [0], async (_p, off, v) => {
      if (v === 'flaky' && failures++ < 2) throw new Error('storage hiccup');
      seen.push(`${off}:${v}`);
    });
    await log.append(0, 'first');
    await log.append(0, 'flaky');
    await log.append(0, 'last');
    await sub.drained();
    await sub.stop();
    assert.deepEqual(seen, ['0:first', '1:flaky', '2:last']);
    assert.equal(failures, 3);
  });

  for (const compression of ['gzip', 'snappy'] as const) {
    it(`round-trips ${compression}-compressed records through the broker`, async () => {
      const log = await textLog(topicName(), 1, compression);
      const big = 'series{a="b"} 1\n'.repeat(20_000);
      await log.append(0, big);
      const [got] = await readAll(log, 0);
      assert.equal(got, `0:${big}`);
    });
  }

  it('frames snappy as snappy-java does (magic header, length-prefixed blocks)', () => {
    const data = randomBytes(100_000);
    const framed = snappyFrame(data);
    assert.deepEqual([...framed.subarray(0, 8)], [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0]);
    assert.equal(framed.readInt32BE(8), 1);
    assert.deepEqual(snappyUnframe(framed), data);
    assert.throws(() => snappyUnframe(framed.subarray(0, framed.length - 3)), /truncated/);
  });

  it('carries a sample bus: each series lands in the partition of its hash', async () => {
    const bus = await sampleBus(4, { key: (b) => b.hashes[0] ?? null, compression: 'snappy' });
    const b = new SampleBatchBuilder();
    for (let i = 0; i < 200; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), 1000, i);
    await bus.publish(b.build());
    const got = new Map<string, number>();
    const sub = await bus.subscribe('ingesters', [0, 1, 2, 3], async (p, _off, batch) => {
      batch.series.forEach((labels, k) => {
        assert.equal(shardOf(labelsHash(labels), 4), p);
        got.set(labels.find((l) => l.name === 'i')?.value ?? '', batch.values[k]);
      });
    });
    await sub.drained();
    await sub.stop();
    assert.equal(got.size, 200);
    for (const [i, v] of got) assert.equal(v, Number(i));
  });

  // Last: it stops the shared broker.
  it('survives the broker going away: appends fail in bounded time, the buffer delivers after', async () => {
    if (process.env.PHAROS_TEST_KAFKA) return; // a broker we did not start is not ours to stop
    const bus = await sampleBus(2, { sendTimeoutMs: 2000 });
    const batchAt = (t: number) => {
      const b = new SampleBatchBuilder();
      for (let i = 0; i < 10; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), t, t);
      return b.build();
    };
    let dropped = 0;
    const pub = new BufferedPublisher((b) => bus.publish(b), {
      maxSamples: 50,
      retryMs: 200,
      maxRetryMs: 1000,
      onDrop: (n) => (dropped += n),
    });
    await pub.publish(batchAt(1));
    assert.equal(await pub.flush(10_000), true);
    broker.stop();
    const started = Date.now();
    await assert.rejects(bus.publish(batchAt(2)), /did not acknowledge the record within 2000 ms/);
    assert.ok(Date.now() - started < 8000, 'a send to a dead broker fails in bounded time');
    for (let t = 2; t <= 7; t++) await pub.publish(batchAt(t)); // returns at once each time
    assert.equal(pub.bufferedSamples, 50);
    assert.equal(dropped, 10, 'the sixth batch was over the bound');
    broker.restart();
    assert.equal(await pub.flush(60_000), true, 'buffered batches went out once the broker was back');
    const seen = new Set<number>();
    const sub = await bus.subscribe('after-outage', [0, 1], async (_p, _o, b) => {
      for (const v of b.values) seen.add(v);
    });
    await sub.drained();
    await sub.stop();
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6],
    );
  });

  it('carries alerts to every alertmanager group on a topic kept an hour', async () => {
    const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
    const topic = topicName();
    const log = await openAlertTopic({ brokers: broker.brokers, topic }, 'pharos-test', quiet);
    open.push(log as KafkaLog<unknown>);
    const bus = new AlertBus(log);
    const alerts = ['A', 'B'].map((n) => ({
      labels: { alertname: n },
      annotations: {},
      startsAt: 1000,
      endsAt: 0,
      generatorURL: '',
    }));
    bus.publish(alerts);
    await bus.flushed();
    for (const group of ['am-1', 'am-2']) {
      const got: string[] = [];
      const sub = await bus.subscribe(group, (as) => void got.push(...as.map((a) => a.labels.alertname)));
      await sub.drained();
      await sub.stop();
      assert.deepEqual(got, ['A', 'B'], group);
      assert.equal(await log.committed(group, 0), 1, `${group} committed what it took`);
    }
    const admin = new kafkajs.Kafka({ brokers: broker.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const cfg = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
      });
      assert.equal(cfg.resources[0].configEntries[0].configValue, '3600000');
    } finally {
      await admin.disconnect();
    }
  });
});
