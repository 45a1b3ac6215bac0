// The admin API of the distributed querier: delete_series and snapshot carried out by every
// ingester over gRPC, replicas included, and a delete that survives a kill -9.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labelsFrom, labelsHash, shardOf } from '@pharos/model';
import { tempDir, waitFor } from './harness.js';
import {
  batch,
  dirs,
  instant,
  range,
  startIngester,
  startQuerier,
  stored,
  useKafkaRoles,
  writer,
  type Ingester,
} from './kafka-roles.js';

useKafkaRoles();

describe('distributed admin API', () => {
  it('is off without --web.enable-admin-api; with it every ingester deletes and snapshots, and a kill -9 replays nothing deleted back', async () => {
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const w = await writer(topic);
    try {
      // Checkpoints only every 10m, so the newest samples' offsets are committed by the delete
      // alone: without that commit a restart would replay them back.
      const slow = ['--storage.tsdb.checkpoint-interval=10m'];
      const roles: Array<{ ing: Ingester; dir: string; parts: string; extra: string[] }> = [];
      for (const [parts, extra] of [
        ['0,1', slow],
        ['2,3', slow],
        ['0,1,2,3', [`--ingester.group=${topic}.replicas`, ...slow]],
      ] as const) {
        const dir = tempDir('pharos-ingester-');
        dirs.push(dir);
        roles.push({
          ing: await startIngester(topic, dir, parts, undefined, extra),
          dir,
          parts,
          extra: [...extra],
        });
      }
      for (const t of range(1, 20)) await w.bus.publish(batch(t));
      const caughtUp = (r: (typeof roles)[number], upTo: number) =>
        waitFor(
          'the ingester to catch up',
          async () => {
            const s = await stored(r.ing);
            const others = [...s].filter(([i]) => i !== '7');
            return others.length > 0 && others.every(([, ts]) => ts.at(-1) === upTo) ? s : undefined;
          },
          60_000,
        );
      for (const r of roles) await caughtUp(r, 20);

      const deleteSeven = (url: string) =>
        fetch(`${url}/api/v1/admin/tsdb/delete_series?match[]=${encodeURIComponent('m{i="7"}')}&start=15`, {
          method: 'POST',
        });
      const plain = await startQuerier(roles.map((r) => r.ing));
      const refused = await deleteSeven(plain.url);
      assert.equal(refused.status, 503);
      assert.match(await refused.text(), /admin APIs disabled/);
      assert.equal(await plain.proc.stop('SIGTERM'), 0);

      const admin = await startQuerier(
        roles.map((r) => r.ing),
        ['--web.enable-admin-api'],
      );
      assert.equal((await deleteSeven(admin.url)).status, 204);
      // The querier merges the replicas: one that kept its copy would show 20 here.
      assert.deepEqual((await instant(admin.url, 'count_over_time(m{i="7"}[5m])', 20))[0].value, [20, '14']);
      const snapshot = await fetch(`${admin.url}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
      const { data } = (await snapshot.json()) as { data: { name: string } };
      for (const r of roles) assert.ok(existsSync(join(r.dir, 'snapshots', data.name)), r.dir);
      assert.equal(await admin.proc.stop('SIGTERM'), 0);

      const sevenOnFirst = shardOf(labelsHash(labelsFrom({ __name__: 'm', i: '7' })), 4) < 2;
      for (const r of [sevenOnFirst ? roles[0] : roles[1], roles[2]]) {
        const ports = [Number(new URL(r.ing.http).port), Number(r.ing.grpc.split(':')[1])];
        r.ing.proc.child.kill('SIGKILL');
        await r.ing.proc.exited;
        r.ing = await startIngester(topic, r.dir, r.parts, ports, r.extra);
        assert.deepEqual((await caughtUp(r, 20)).get('7'), range(1, 14));
      }
      for (const r of roles) assert.equal(await r.ing.proc.stop('SIGTERM'), 0);
    } finally {
      await w.close();
    }
  });

  it('an ingester role keeps the storage flags of the all-in-one: an out-of-order window, then a short retention', async () => {
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const dir = tempDir('pharos-ingester-');
    dirs.push(dir);
    const w = await writer(topic);
    try {
      const now = Math.floor(Date.now() / 1000);
      const [old, late, tooLate, recent] = [now - 3 * 3600, now - 1200, now - 3000, now - 10];
      const ooo = ['--storage.tsdb.out-of-order-time-window=30m'];
      let ing = await startIngester(topic, dir, '0,1,2,3', undefined, ooo);
      const ports = [Number(new URL(ing.http).port), Number(ing.grpc.split(':')[1])];
      // Three hours apart, so the old sample's chunk is sealed before the recent one starts.
      for (const t of [old, recent, late, tooLate]) await w.bus.publish(batch(t));
      let seen = '';
      const all = (want: number[]) =>
        waitFor(
          `every series to hold ${want.join(', ')}`,
          async () => {
            const s = await stored(ing);
            seen = `${s.size} series, i="0": ${s.get('0')?.join(', ')}`;
            return s.size === 40 && [...s.values()].every((ts) => ts.join() === want.join()) ? s : undefined;
          },
          60_000,
        ).catch((e: unknown) => {
          throw new Error(`${(e as Error).message}; last seen ${seen}`);
        });
      // The late sample is within the window of the newest; the later one is too old, as
      // Prometheus counts a sample behind its out-of-order window.
      await all([old, late, recent]);
      const metrics = await (await fetch(`${ing.http}/metrics`)).text();
      assert.match(metrics, /^prometheus_tsdb_too_old_samples_total\{type="float"\} 40$/m);
      assert.match(metrics, /^prometheus_tsdb_out_of_order_samples_total 0$/m);
      assert.equal(await ing.proc.stop('SIGTERM'), 0);

      // Retention acts as the role starts, as the all-in-one's does: an hour back from the newest.
      ing = await startIngester(topic, dir, '0,1,2,3', ports, [...ooo, '--storage.tsdb.retention.time=1h']);
      await all([late, recent]);
      assert.match(ing.proc.stderr + ing.proc.stdout, /retention applied/);
      assert.equal(await ing.proc.stop('SIGTERM'), 0);
    } finally {
      await w.close();
    }
  });
});
