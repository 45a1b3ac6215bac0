import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { LabelMatcher, labelsFrom, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import { InProcessLog, SampleBus } from '@pharos/transport';
import { TSDB } from '@pharos/tsdb';
import { Ingester } from './index.js';

function batch(t: number, n: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < n; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), t, t / 1000 + i);
  return b.build();
}

describe('Ingester', () => {
  it('stores every published sample in its partition shard and commits offsets after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-ingest-'));
    try {
      const shards = new Map<number, TSDB>();
      for (const p of [0, 1]) shards.set(p, await TSDB.open(join(dir, `shard-${p}`)));
      const log = new InProcessLog<SampleBatch>(2);
      const bus = new SampleBus(log);
      const registry = new Registry();
      const ing = new Ingester(bus, shards, pino({ level: 'silent' }), registry);
      await ing.start();
      for (let t = 1; t <= 5; t++) await bus.publish(batch(t * 1000, 20));
      await bus.publish(batch(2000, 20)); // all out of order
      await ing.stop();
      let series = 0;
      let samples = 0;
      for (const db of shards.values()) {
        const data = await db.select([new LabelMatcher('=', '__name__', 'm')], 0, 10_000);
        series += data.length;
        for (const s of data) samples += s.timestamps.length;
      }
      assert.equal(series, 20);
      assert.equal(samples, 100);
      for (const p of [0, 1]) assert.equal(await log.committed('ingester', p), log.endOffset(p));
      const metrics = await registry.metrics();
      assert.match(metrics, /prometheus_tsdb_head_samples_appended_total 100/);
      assert.match(metrics, /pharos_ingester_samples_rejected_total\{reason="out_of_order"\} 20/);
      assert.match(metrics, /prometheus_tsdb_head_series 20/);
      for (const db of shards.values()) await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
