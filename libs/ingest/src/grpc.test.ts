import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Server } from '@grpc/grpc-js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import {
  isStaleNaN,
  LabelMatcher,
  labelsFrom,
  SampleBatchBuilder,
  STALE_NAN,
  type Labels,
  type SampleBatch,
} from '@pharos/model';
import { InProcessLog, SampleBus } from '@pharos/transport';
import { ShardedTSDB } from '@pharos/tsdb';
import { createIngesterServer, Ingester, ingesterBackend, IngesterGrpcClient, listenGrpc } from './index.js';

describe('Ingester gRPC service over loopback', () => {
  let dir: string;
  let db: ShardedTSDB;
  let ingester: Ingester;
  let server: Server;
  let client: IngesterGrpcClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pharos-grpc-'));
    db = await ShardedTSDB.open(dir, 2);
    const bus = new SampleBus(new InProcessLog<SampleBatch>(2));
    ingester = new Ingester(
      bus,
      new Map(db.shards.map((s, i) => [i, s])),
      pino({ level: 'silent' }),
      new Registry(),
    );
    await ingester.start();
    server = createIngesterServer(ingesterBackend(ingester, db));
    const port = await listenGrpc(server, '127.0.0.1:0');
    client = new IngesterGrpcClient(`127.0.0.1:${port}`, undefined, 10_000);
  });

  after(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await ingester.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes, reporting what storage accepted and rejected', async () => {
    const b = new SampleBatchBuilder();
    for (let i = 0; i < 50; i++) {
      const s = b.addSeries(labelsFrom({ __name__: 'g', job: i % 2 ? 'odd' : 'even', i: String(i) }));
      for (let t = 0; t < 300; t++) b.add(s, t * 15_000, t === 299 ? STALE_NAN : i * t);
    }
    const bad = b.addSeries(labelsFrom({ __name__: 'g', i: 'x' }));
    b.add(bad, 100, 1);
    b.add(bad, 50, 1);
    const r = await client.push(b.build());
    assert.deepEqual(r, {
      appended: 50 * 300 + 1,
      outOfOrder: 1,
      duplicate: 0,
      invalid: 0,
      firstError: 'out of order sample',
    });
  });

  it('streams Select as chunks that decode to what the shards hold, staleness bits included', async () => {
    const ms = [new LabelMatcher('=~', 'job', 'odd|even')];
    const remote = await client.select(ms, 600_000, 5_000_000);
    const local = await db.select(ms, 600_000, 5_000_000);
    assert.equal(remote.length, 50);
    const key = (labels: Labels) => JSON.stringify(labels);
    const byKey = new Map(local.map((s) => [key(s.labels), s]));
    for (const s of remote) {
      const l = byKey.get(key(s.labels));
      assert.ok(l);
      assert.deepEqual([...s.timestamps], [...l.timestamps]);
      assert.ok(isStaleNaN(s.values[s.values.length - 1]));
      assert.deepEqual(
        Buffer.from(s.values.buffer).toString('hex'),
        Buffer.from(l.values.buffer, l.values.byteOffset, l.values.byteLength).toString('hex'),
      );
    }
  });

  it('answers label names, values and series with matchers and ranges', async () => {
    assert.deepEqual(await client.labelNames([], -Infinity, Infinity), ['__name__', 'i', 'job']);
    assert.deepEqual(await client.labelValues('job', [], -Infinity, Infinity), ['even', 'odd']);
    const odd = await client.series([new LabelMatcher('=', 'job', 'odd')], 0, 1000);
    assert.equal(odd.length, 25);
    assert.deepEqual(await client.series([new LabelMatcher('=', 'job', 'odd')], 10_000_000, 20_000_000), []);
  });

  it('turns a bad matcher into an error, and stays up', async () => {
    await assert.rejects(
      client.select(
        [new LabelMatcher('=', 'x', 'y'), { type: '=~', name: 'a', value: '(' } as LabelMatcher],
        0,
        1,
      ),
      /ingester: invalid matcher a: /,
    );
    assert.deepEqual(await client.labelValues('job', [], -Infinity, Infinity), ['even', 'odd']);
  });
});
