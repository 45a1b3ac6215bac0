import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
import { isSnapshotName, ShardedTSDB, snapshotName } from '@pharos/tsdb';
import {
  createIngesterServer,
  Ingester,
  ingesterBackend,
  IngesterGrpcClient,
  ingesterSet,
  listenGrpc,
  shardsAdmin,
} from './index.js';

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
    server = createIngesterServer(ingesterBackend(ingester, db, { push: true }));
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
      outOfBounds: 0,
      tooOld: 0,
      firstError: 'out of order sample for series g{i="x"}',
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

describe('admin calls over loopback, to one ingester and to every ingester', () => {
  const dirs: string[] = [];
  const stops: Array<() => Promise<void>> = [];

  /** An ingester with two shards holding `m{i="0".."9"}` at 0..59 min, served with or without admin. */
  async function start(withAdmin: boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-grpc-admin-'));
    dirs.push(dir);
    const db = await ShardedTSDB.open(dir, 2);
    const ingester = new Ingester(
      new SampleBus(new InProcessLog<SampleBatch>(2)),
      new Map(db.shards.map((s, i) => [i, s])),
      pino({ level: 'silent' }),
      new Registry(),
    );
    await ingester.start();
    const backend = ingesterBackend(ingester, db, { push: true });
    const server = createIngesterServer(
      withAdmin ? { ...backend, admin: shardsAdmin(db, ingester, dir, pino({ level: 'silent' })) } : backend,
    );
    const address = `127.0.0.1:${await listenGrpc(server, '127.0.0.1:0')}`;
    const b = new SampleBatchBuilder();
    for (let i = 0; i < 10; i++) {
      const s = b.addSeries(labelsFrom({ __name__: 'm', i: String(i) }));
      for (let t = 0; t < 60; t++) b.add(s, t * 60_000, t);
    }
    await ingester.push(b.build());
    stops.push(async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await ingester.stop();
      await db.close();
    });
    return { dir, db, address };
  }

  after(async () => {
    for (const stop of stops) await stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('deletes a range of the matching series, refuses bad requests and writes snapshots', async () => {
    const a = await start(true);
    const client = new IngesterGrpcClient(a.address, undefined, 10_000);
    try {
      const r = await client.deleteSeries(
        [[new LabelMatcher('=', 'i', '1')], [new LabelMatcher('=~', 'i', '[23]')]],
        10 * 60_000,
        19 * 60_000,
      );
      // Only a series left with no sample at all counts as deleted.
      assert.deepEqual(r, { deletedSeries: 0, deletedSamples: 30 });
      assert.deepEqual(await client.deleteSeries([[new LabelMatcher('=', 'i', '4')]], -Infinity, Infinity), {
        deletedSeries: 1,
        deletedSamples: 60,
      });
      const left = await a.db.select([new LabelMatcher('=~', 'i', '[0-4]')], -Infinity, Infinity);
      const counts = Object.fromEntries(left.map((s) => [s.labels[1].value, s.timestamps.length]));
      assert.deepEqual(counts, { 0: 60, 1: 50, 2: 50, 3: 50 });
      await assert.rejects(client.deleteSeries([], 0, 1), /no matchers to delete by/);
      await assert.rejects(client.snapshot('../../etc', false), /invalid snapshot name "..\/..\/etc"/);
      const name = snapshotName();
      await client.snapshot(name, false);
      const copy = await ShardedTSDB.open(join(a.dir, 'snapshots', name), 2);
      try {
        assert.equal(
          (await copy.select([new LabelMatcher('=', 'i', '1')], -Infinity, Infinity))[0].timestamps.length,
          50,
        );
      } finally {
        await copy.close();
      }
    } finally {
      client.close();
    }
  });

  it('fans out to every ingester, and names the ones that failed', async () => {
    const [a, b, noAdmin] = [await start(true), await start(true), await start(false)];
    const logger = pino({ level: 'silent' });
    const both = ingesterSet({
      addresses: [a.address, b.address],
      partitions: 2,
      registry: new Registry(),
      logger,
      role: 't',
    });
    const three = ingesterSet({
      addresses: [a.address, b.address, noAdmin.address],
      partitions: 2,
      registry: new Registry(),
      logger,
      role: 't',
    });
    const none = ingesterSet({ addresses: [], partitions: 2, registry: new Registry(), logger, role: 't' });
    try {
      await both.admin.deleteSeries([[new LabelMatcher('=', 'i', '9')]], -Infinity, Infinity);
      for (const x of [a, b])
        assert.deepEqual(await x.db.select([new LabelMatcher('=', 'i', '9')], -Infinity, Infinity), []);
      const name = await both.admin.snapshot(true);
      assert.ok(isSnapshotName(name), name);
      for (const x of [a, b]) assert.ok(existsSync(join(x.dir, 'snapshots', name)));
      await assert.rejects(
        three.admin.deleteSeries([[new LabelMatcher('=', 'i', '8')]], -Infinity, Infinity),
        new RegExp(
          `delete_series failed on 1 of 3 ingesters: ${noAdmin.address}: .*does not serve admin calls`,
        ),
      );
      await assert.rejects(none.admin.snapshot(false), /snapshot: no ingesters known/);
    } finally {
      both.close();
      three.close();
      none.close();
    }
  });

  it('counts each partition once in the TSDB status, however many replicas hold it', async () => {
    const [a, b] = [await start(false), await start(false)];
    const logger = pino({ level: 'silent' });
    const replicas = ingesterSet({
      addresses: [a.address, b.address],
      partitions: 2,
      registry: new Registry(),
      logger,
      role: 't',
    });
    const short = ingesterSet({
      addresses: [a.address, '127.0.0.1:1'],
      partitions: 3,
      registry: new Registry(),
      logger,
      role: 't',
    });
    try {
      const got = await replicas.tsdbStatus();
      assert.deepEqual(got.warnings, []);
      const own = a.db.status();
      assert.equal(got.status.numSeries, 10);
      assert.deepEqual(
        [got.status.minTime, got.status.maxTime, got.status.chunkCount],
        [own.minTime, own.maxTime, own.chunkCount],
      );
      assert.deepEqual([...got.status.pairs].sort().map(String), [...own.pairs].sort().map(String));
      const partial = await short.tsdbStatus();
      assert.equal(partial.status.numSeries, 10);
      assert.equal(partial.warnings.length, 2);
      assert.match(partial.warnings[0], /^ingester 127\.0\.0\.1:1 did not answer: /);
      assert.equal(partial.warnings[1], 'no ingester reported partition 2: its series are not counted');
    } finally {
      replicas.close();
      short.close();
    }
  });
});
