// A child process for the crash test: ingests batches through the write-ahead log into sharded
// storage with frequent checkpoints, printing each batch's number once `publish` has resolved
// (the acknowledgement), until the parent kills it with SIGKILL.
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { labelsFrom, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import { sampleBatchLogCodec } from '@pharos/proto';
import { FileLog, SampleBus } from '@pharos/transport';
import { ShardedTSDB } from '@pharos/tsdb';
import { Ingester } from '../ingester.js';

export const SERIES = 300;
export const SHARDS = 3;

export function crashBatch(k: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < SERIES; i++)
    b.push(labelsFrom({ __name__: 'crash_test', i: String(i) }), k * 1000, k + i);
  return b.build();
}

export async function openStack(dir: string, checkpointIntervalMs: number) {
  const db = await ShardedTSDB.open(join(dir, 'tsdb'), SHARDS);
  const log = FileLog.open(join(dir, 'wal'), SHARDS, sampleBatchLogCodec);
  const bus = new SampleBus(log);
  const ingester = new Ingester(
    bus,
    new Map(db.shards.map((s, i) => [i, s])),
    pino({ level: 'silent' }),
    new Registry(),
    { checkpointIntervalMs },
  );
  await ingester.start();
  return { db, log, bus, ingester };
}

if (process.argv[2] === 'run') {
  const { bus } = await openStack(process.argv[3], 50);
  for (let k = 1; ; k++) {
    await bus.publish(crashBatch(k));
    process.stdout.write(`acked ${k}\n`);
    // Let timers and storage callbacks run between batches, as between scrapes.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
