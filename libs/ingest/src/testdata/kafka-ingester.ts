// An ingester process on Kafka for the kill -9 test: consumes every partition of the topic into
// one TSDB shard per partition under DIR, checkpointing (and so committing) every 300 ms, and
// prints its appended samples and finished checkpoints as JSON lines so the test knows when to kill it.
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { SampleBatch } from '@pharos/model';
import { decodeSampleBatch, encodeSampleBatch } from '@pharos/proto';
import { KafkaLog, SampleBus } from '@pharos/transport';
import { TSDB } from '@pharos/tsdb';
import { Ingester } from '../index.js';

const [brokers, topic, group, dir, partitionArg] = process.argv.slice(2);
const partitions = Number(partitionArg);
const log = await KafkaLog.open<SampleBatch>({
  brokers: brokers.split(','),
  topic,
  partitions,
  clientId: 'pharos-ingester-test',
  codec: { encode: encodeSampleBatch, decode: decodeSampleBatch },
});
const shards = new Map<number, TSDB>();
for (let p = 0; p < partitions; p++) shards.set(p, await TSDB.open(join(dir, `shard-${p}`)));
const registry = new Registry();
const ingester = new Ingester(new SampleBus(log), shards, pino({ level: 'warn' }), registry, {
  group,
  checkpointIntervalMs: 300,
});
await ingester.start();
const counter = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
setInterval(async () => {
  const appended = await counter('prometheus_tsdb_head_samples_appended_total');
  const checkpoints = await counter('pharos_ingester_checkpoints_total');
  process.stdout.write(`${JSON.stringify({ appended, checkpoints })}\n`);
}, 100);
