import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { HeadSeriesLimit, ShardedTSDB } from './index.js';

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
});
