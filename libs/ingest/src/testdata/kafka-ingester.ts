// An ingester process on Kafka for the kill -9 test: consumes every partition of the topic into
// one TSDB shard per partition under DIR, checkpointing (and so committing) every 300 ms, and
// prints the newest handled offsets as JSON lines so the test knows when to kill it.
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
setInterval(async () => {
  const m = await registry.getSingleMetric('prometheus_tsdb_head_samples_appended_total')?.get();
  process.stdout.write(`${JSON.stringify({ appended: m?.values[0]?.value ?? 0 })}\n`);
}, 100);
