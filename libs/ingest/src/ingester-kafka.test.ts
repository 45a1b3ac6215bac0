import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { LabelMatcher, labelsFrom, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import { decodeSampleBatch, encodeSampleBatch } from '@pharos/proto';
import { KafkaLog, SampleBus } from '@pharos/transport';
import { startTestBroker, type TestBroker } from '@pharos/transport/testing';
import { TSDB } from '@pharos/tsdb';
import { Ingester } from './index.js';

const CHILD = fileURLToPath(new URL('./testdata/kafka-ingester.ts', import.meta.url));
const SERIES = 50;

function batch(t: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < SERIES; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), t * 1000, t);
  return b.build();
}

/**
 * Starts the ingester process and resolves once it has appended at least `samples` and then
 * finished two checkpoints: the first may have begun before those samples were handled.
 */
function startChild(args: string[], samples: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingester child stalled: ${stderr}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`ingester child exited with ${code}: ${stderr}`)));
    let checkpointsThen: number | undefined;
    child.stdout?.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').pop() ?? '{}';
      const { appended, checkpoints } = JSON.parse(last) as { appended: number; checkpoints: number };
      if (checkpointsThen === undefined && appended >= samples) checkpointsThen = checkpoints;
      if (checkpointsThen !== undefined && checkpoints >= checkpointsThen + 2) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(child);
      }
    });
  });
}

let broker!: TestBroker;
before(() => {
  broker = startTestBroker();
});
after(() => broker?.close());

describe('Ingester on Kafka', () => {
  it('loses nothing when killed -9 during ingest: the restart replays from the committed offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-ingest-kafka-'));
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const group = `ingesters.${randomBytes(4).toString('hex')}`;
    const codec = { encode: encodeSampleBatch, decode: decodeSampleBatch };
    const producer = await KafkaLog.open<SampleBatch>({
      brokers: broker.brokers,
      topic,
      partitions: 4,
      clientId: 'pharos-test-writer',
      codec,
      compression: 'snappy',
    });
    const bus = new SampleBus(producer);
    try {
      const args = [broker.brokers.join(','), topic, group, dir, '4'];
      for (let t = 1; t <= 40; t++) await bus.publish(batch(t));
      const child = await startChild(args, 20 * SERIES);
      // Keep writing while it ingests, then kill it without any chance to flush.
      for (let t = 41; t <= 60; t++) await bus.publish(batch(t));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (let t = 61; t <= 80; t++) await bus.publish(batch(t));

      // The restarted ingester, in this process this time, so its storage can be read.
      const shards = new Map<number, TSDB>();
      for (let p = 0; p < 4; p++) shards.set(p, await TSDB.open(join(dir, `shard-${p}`)));
      const consumer = await KafkaLog.open<SampleBatch>({
        brokers: broker.brokers,
        topic,
        partitions: 4,
        clientId: 'pharos-test-ingester',
        codec,
      });
      let committed = 0;
      let end = 0;
      for (let p = 0; p < 4; p++) {
        committed += await consumer.committed(group, p);
        end += consumer.endOffset(p);
      }
      assert.ok(committed > 0, 'the killed ingester had committed what it made durable');
      assert.ok(committed < end, 'and the restart has records to replay');
      const registry = new Registry();
      const ingester = new Ingester(new SampleBus(consumer), shards, pino({ level: 'silent' }), registry, {
        group,
        checkpointIntervalMs: 0,
      });
      await ingester.start();
      await ingester.drain();
      await ingester.stop();
      const counts = new Map<string, number[]>();
      for (const db of shards.values()) {
        for (const s of await db.select([new LabelMatcher('=', '__name__', 'm')], 0, 100_000)) {
          counts.set(s.labels.find((l) => l.name === 'i')?.value ?? '', [...s.timestamps]);
        }
      }
      assert.equal(counts.size, SERIES);
      const expected = Array.from({ length: 80 }, (_, k) => (k + 1) * 1000);
      for (const [i, ts] of counts) assert.deepEqual(ts, expected, `series i=${i} has a gap`);
      for (const db of shards.values()) await db.close();
      await consumer.close();
    } finally {
      await producer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
