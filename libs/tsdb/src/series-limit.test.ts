import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { Registry } from 'prom-client';
import { HEAP_REFUSE_FRACTION, HeadSeriesLimit, ShardedTSDB } from './index.js';

function batch(names: string[], t: number) {
  const b = new SampleBatchBuilder();
  for (const n of names) b.add(b.addSeries(labelsFrom({ __name__: 'limited', id: n })), t, 1);
  return b.build();
}

describe('--storage.tsdb.max-head-series', () => {
  it('refuses samples of new series past the cap over all shards, naming it, and keeps the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-series-limit-'));
    const db = await ShardedTSDB.open(dir, 2, { seriesLimit: new HeadSeriesLimit(5) });
    try {
      const ids = Array.from({ length: 8 }, (_, i) => `s${i}`);
      // One batch per shard, as the ingester appends: the cap is shared, not per shard.
      const first = await Promise.all(db.shards.map((s) => s.append(batch(ids, 1000))));
      const appended = first.reduce((n, r) => n + r.appended, 0);
      const refused = first.reduce((n, r) => n + r.invalid, 0);
      assert.equal(db.seriesCount(), 5);
      assert.equal(appended, 5);
      assert.equal(refused, 2 * 8 - 5);
      const message = first.map((r) => r.firstError).find((e) => e !== undefined);
      assert.match(
        String(message),
        /^head series limit of 5 reached \(--storage\.tsdb\.max-head-series\): new series limited\{id="s\d"\} refused$/,
      );
      // The series held go on taking samples.
      const held = (await db.series([], -Infinity, Infinity)).map((ls) => ls[1].value);
      const later = await Promise.all(db.shards.map((s) => s.append(batch(held, 2000))));
      assert.equal(
        later.reduce((n, r) => n + r.appended, 0),
        5,
      );
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses new series while the heap is nearly full, with no cap set, and counts them by reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-series-limit-'));
    const limit = 4 * 2 ** 30;
    let used = 0.5 * limit;
    const registry = new Registry();
    const db = await ShardedTSDB.open(dir, 1, {
      seriesLimit: new HeadSeriesLimit(0, registry, () => ({ used, limit })),
    });
    try {
      assert.equal((await db.shards[0].append(batch(['a', 'b'], 1000))).appended, 2);
      used = (HEAP_REFUSE_FRACTION + 0.01) * limit;
      await sleep(120); // the heap is read at most every 100 ms
      const full = await db.shards[0].append(batch(['a', 'b', 'c', 'd'], 2000));
      assert.equal(full.appended, 2, 'the series held still take samples');
      assert.equal(full.invalid, 2);
      const held = Math.round(((HEAP_REFUSE_FRACTION + 0.01) * limit) / 2 ** 20);
      assert.equal(
        full.firstError,
        `memory limit reached: the heap holds ${held} MiB of the 4096 MiB it may grow to (node --max-old-space-size); set --storage.tsdb.max-head-series below the series this process can hold: new series limited{id="c"} refused`,
      );
      assert.match(await registry.metrics(), /pharos_tsdb_head_series_refused_total\{reason="memory"\} 2/);
      used = 0.5 * limit;
      await sleep(120);
      assert.equal(
        (await db.shards[0].append(batch(['c', 'd'], 3000))).appended,
        2,
        'taken again once memory is back',
      );
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
