import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatLabels, LabelMatcher, labelsFrom, SampleBatchBuilder, type MatchType } from '@pharos/model';
import { ClassicLevel } from 'classic-level';
import { ShardedTSDB, TSDB } from './index.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pharos-tsdb-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SERIES: Array<Record<string, string>> = [
  { __name__: 'http_requests_total', job: 'api', code: '200' },
  { __name__: 'http_requests_total', job: 'api', code: '500' },
  { __name__: 'http_requests_total', job: 'web', code: '200' },
  { __name__: 'up', job: 'api' },
  { __name__: 'up', job: 'web', env: 'prod' },
];

function SERIES_TEXT(): string[] {
  return SERIES.map((s) => formatLabels(labelsFrom(s)));
}

async function seeded(): Promise<TSDB> {
  const db = await TSDB.open(tempDir());
  const b = new SampleBatchBuilder();
  for (const s of SERIES) b.push(labelsFrom(s), 1000, 1);
  await db.append(b.build());
  return db;
}

function m(spec: string): LabelMatcher {
  const [, name, type, value] = /^(\w+)(=~|!~|!=|=)"(.*)"$/.exec(spec) ?? [];
  return new LabelMatcher(type as MatchType, name, value);
}

describe('TSDB index matchers', () => {
  const rows: Array<[string[], string[]]> = [
    [['__name__="up"'], ['up{job="api"}', 'up{env="prod", job="web"}']],
    [
      ['job="api"', 'code!="500"'],
      ['http_requests_total{code="200", job="api"}', 'up{job="api"}'],
    ],
    [['__name__=~"http.*"', 'code=~"5.."'], ['http_requests_total{code="500", job="api"}']],
    [['__name__="up"', 'env=""'], ['up{job="api"}']],
    [['__name__="up"', 'env!=""'], ['up{env="prod", job="web"}']],
    [
      ['__name__="up"', 'env=~"prod|"'],
      ['up{job="api"}', 'up{env="prod", job="web"}'],
    ],
    [['__name__="up"', 'env!~"prod"'], ['up{job="api"}']],
    [
      ['job=~".+"', 'code!~"2.*"'],
      ['http_requests_total{code="500", job="api"}', 'up{job="api"}', 'up{env="prod", job="web"}'],
    ],
    [['job="nope"'], []],
    [['code="200"', 'job="web"'], ['http_requests_total{code="200", job="web"}']],
    // Literal alternations and prefixes take the index fast paths; results must not change.
    [['job=~"web|nope"'], ['http_requests_total{code="200", job="web"}', 'up{env="prod", job="web"}']],
    [
      ['__name__=~"http_.*"', 'code=~"2.*"'],
      ['http_requests_total{code="200", job="api"}', 'http_requests_total{code="200", job="web"}'],
    ],
    [['__name__=~".*_total"', 'job="web"'], ['http_requests_total{code="200", job="web"}']],
    [
      ['env=~"prod|"', '__name__="up"'],
      ['up{job="api"}', 'up{env="prod", job="web"}'],
    ],
    [['env!~"prod|dev"', 'job="web"'], ['http_requests_total{code="200", job="web"}']],
    [['__name__!=""'], SERIES_TEXT()],
  ];
  for (const [specs, want] of rows) {
    it(`{${specs.join(', ')}}`, async () => {
      const db = await seeded();
      const got = (await db.series(specs.map(m), -Infinity, Infinity)).map(formatLabels).sort();
      assert.deepEqual(got, [...want].sort());
      await db.close();
    });
  }
});

describe('TSDB storage', () => {
  it('stores, reads back in range, and survives a restart', async () => {
    const dir = tempDir();
    let db = await TSDB.open(dir);
    const ls = labelsFrom({ __name__: 'x', i: '1' });
    // 300 samples: several sealed chunks plus an open head chunk.
    for (let i = 0; i < 300; i++) {
      const b = new SampleBatchBuilder();
      b.push(ls, i * 15_000, i * 2);
      const r = await db.append(b.build());
      assert.equal(r.appended, 1);
    }
    const check = async (d: TSDB) => {
      const [s] = await d.select([m('__name__="x"')], 150_000, 450_000);
      assert.equal(s.timestamps.length, 21);
      assert.equal(s.timestamps[0], 150_000);
      assert.equal(s.values[20], 60);
    };
    await check(db);
    await db.close();
    db = await TSDB.open(dir);
    await check(db);
    const all = await db.select([m('__name__="x"')], -Infinity, Infinity);
    assert.equal(all[0].timestamps.length, 300);
    assert.deepEqual(await db.labelValues('i', [], -Infinity, Infinity), ['1']);
    // The newest time is known after a restart, so an old sample is still out of order, and one
    // older than the newest less an hour is out of the head's bounds, as upstream.
    const b = new SampleBatchBuilder();
    b.push(ls, 299 * 15_000 - 60_000, 1);
    b.push(labelsFrom({ __name__: 'x', i: '2' }), 100, 1);
    const r = await db.append(b.build());
    assert.deepEqual([r.outOfOrder, r.outOfBounds], [1, 1]);
    await db.close();
  });

  it('rejects out-of-order and conflicting duplicates, accepts identical resends', async () => {
    const db = await TSDB.open(tempDir());
    const ls = labelsFrom({ __name__: 'y' });
    const b = new SampleBatchBuilder();
    const s = b.addSeries(ls);
    b.add(s, 2000, 1);
    b.add(s, 1000, 1); // out of order
    b.add(s, 2000, 1); // identical resend
    b.add(s, 2000, 2); // conflicting duplicate
    const r = await db.append(b.build());
    assert.deepEqual(
      { ...r },
      {
        appended: 1,
        outOfOrder: 1,
        duplicate: 1,
        invalid: 0,
        outOfBounds: 0,
        tooOld: 0,
        firstError: 'out of order sample for series y',
      },
    );
    await db.close();
  });

  it('refuses series without a metric name', async () => {
    const db = await TSDB.open(tempDir());
    const b = new SampleBatchBuilder();
    b.push(labelsFrom({ job: 'x' }), 1, 1);
    const r = await db.append(b.build());
    assert.equal(r.invalid, 1);
    assert.equal(r.firstError, 'series has no metric name');
    await db.close();
  });

  it('filters series and label values by time range', async () => {
    const db = await TSDB.open(tempDir());
    const b = new SampleBatchBuilder();
    b.push(labelsFrom({ __name__: 'old', k: 'a' }), 1000, 1);
    b.push(labelsFrom({ __name__: 'new', k: 'b' }), 100_000, 1);
    await db.append(b.build());
    assert.deepEqual(await db.labelValues('k', [], 50_000, 200_000), ['b']);
    assert.deepEqual(await db.labelNames([], 50_000, 200_000), ['__name__', 'k']);
    assert.equal((await db.series([m('k=~".*"')], 0, 2000)).length, 1);
    await db.close();
  });
});

function one(name: string, t: number, v: number, extra: Record<string, string> = {}) {
  const b = new SampleBatchBuilder();
  b.push(labelsFrom({ __name__: name, ...extra }), t, v);
  return b.build();
}

describe('TSDB durability of the head', () => {
  it('restores checkpointed open chunks and keeps appending to them', async () => {
    const dir = tempDir();
    let db = await TSDB.open(dir);
    for (let i = 0; i < 50; i++) await db.append(one('h', i * 1000, i));
    assert.equal(await db.checkpoint(), 1);
    assert.equal(await db.checkpoint(), 0, 'an unchanged head is not written again');
    await db.close();
    db = await TSDB.open(dir);
    assert.equal(db.stats().headChunks, 1);
    assert.equal((await db.append(one('h', 49_000, 49))).appended, 0, 'identical resend of the last sample');
    for (let i = 50; i < 130; i++) await db.append(one('h', i * 1000, i));
    await db.close();
    db = await TSDB.open(dir);
    const [s] = await db.select([m('__name__="h"')], -Infinity, Infinity);
    assert.deepEqual(
      [...s.timestamps],
      Array.from({ length: 130 }, (_, i) => i * 1000),
    );
    assert.deepEqual(
      [...s.values],
      Array.from({ length: 130 }, (_, i) => i),
    );
    await db.close();
  });

  it('writes each checkpoint as one generation of a few large values, replacing the one before', async () => {
    const dir = tempDir();
    let db = await TSDB.open(dir);
    const batch = (t: number) => {
      const b = new SampleBatchBuilder();
      for (let i = 0; i < 3000; i++) b.push(labelsFrom({ __name__: 'g', i: String(i) }), t, i);
      return b.build();
    };
    for (let t = 0; t < 20_000; t += 1000) await db.append(batch(t));
    assert.equal(await db.checkpoint(), 3000);
    await db.append(batch(20_000));
    assert.equal(await db.checkpoint(), 3000, 'every open head, changed or not');
    await db.close();
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    const heads: number[][] = [];
    for await (const key of raw.keys({ gte: Uint8Array.of(0x48), lt: Uint8Array.of(0x49) }))
      heads.push([...key]);
    for await (const key of raw.keys({ gte: Uint8Array.of(0x68), lt: Uint8Array.of(0x69) }))
      heads.push([...key]);
    await raw.close();
    // One piece of the second generation; none of the first, and no key per series.
    assert.deepEqual(heads, [[0x68, 0, 0, 0, 2, 0, 0, 0, 0]]);
    db = await TSDB.open(dir);
    assert.equal(db.stats().headChunks, 3000);
    const [s] = await db.select([m('i="7"')], -Infinity, Infinity);
    assert.deepEqual(
      [...s.timestamps],
      Array.from({ length: 21 }, (_, k) => k * 1000),
    );
    await db.close();
  });

  it('after a crash, does not bring back a head that was sealed after its checkpoint', async () => {
    const dir = tempDir();
    const db = await TSDB.open(dir);
    for (let i = 0; i < 50; i++) await db.append(one('h', i * 1000, i));
    await db.checkpoint();
    // The 120th sample seals the chunk; the ten after it are only in memory (and the log).
    for (let i = 50; i < 130; i++) await db.append(one('h', i * 1000, i));
    // What is on disk now, as a kill -9 would leave it.
    const crashed = tempDir();
    cpSync(dir, crashed, { recursive: true });
    await db.close();
    const again = await TSDB.open(crashed);
    assert.equal(again.stats().headChunks, 0);
    const [s] = await again.select([m('__name__="h"')], -Infinity, Infinity);
    assert.deepEqual(
      [...s.timestamps],
      Array.from({ length: 120 }, (_, i) => i * 1000),
    );
    // The log's replay of the rest is accepted.
    assert.equal((await again.append(one('h', 120_000, 120))).appended, 1);
    await again.close();
  });

  it('rebuilds the label index from the series records across a restart', async () => {
    const dir = tempDir();
    let db = await TSDB.open(dir);
    const b = new SampleBatchBuilder();
    for (const s of SERIES) b.push(labelsFrom(s), 1000, 1);
    await db.append(b.build());
    await db.close();
    db = await TSDB.open(dir);
    assert.deepEqual(await db.labelValues('job', [], -Infinity, Infinity), ['api', 'web']);
    assert.deepEqual((await db.series([m('code=~"2.."')], -Infinity, Infinity)).length, 2);
    await db.close();
  });

  it('writes one key per new series, and drops the posting keys of earlier versions at open', async () => {
    const dir = tempDir();
    let db = await TSDB.open(dir);
    await db.append(one('kept', 1000, 1, { job: 'a' }));
    await db.close();
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    const kinds = async () => {
      const seen: string[] = [];
      for await (const key of raw.keys()) seen.push(String.fromCharCode(key[0]));
      return seen.sort().join('');
    };
    // S for the series, M for the next ref, h for the head checkpointed at close.
    assert.equal(await kinds(), 'MSh');
    // A posting key as earlier versions wrote one: P name FF value FF ref.
    const enc = new TextEncoder();
    const legacy = Uint8Array.from([0x50, ...enc.encode('job'), 0xff, ...enc.encode('a'), 0xff, 0, 0, 0, 1]);
    await raw.put(legacy, new Uint8Array(0));
    await raw.close();
    db = await TSDB.open(dir);
    assert.deepEqual(await db.labelValues('job', [], -Infinity, Infinity), ['a']);
    await db.close();
    await raw.open();
    assert.equal(await kinds(), 'MSh');
    await raw.close();
  });
});

describe('TSDB out-of-order window', () => {
  it('accepts samples inside the window and merges them in time order', async () => {
    const db = await TSDB.open(tempDir(), { outOfOrderTimeWindowMs: 60_000 });
    for (const t of [100_000, 110_000, 120_000]) await db.append(one('o', t, t / 1000));
    const b = new SampleBatchBuilder();
    const s = b.addSeries(labelsFrom({ __name__: 'o' }));
    b.add(s, 105_000, 105);
    b.add(s, 70_000, 70);
    b.add(s, 50_000, 50); // outside the window: 120s - 60s
    const r = await db.append(b.build());
    assert.equal(r.appended, 2);
    // Upstream's ErrTooOldSample: out of order support is on, the sample is outside its window.
    assert.deepEqual([r.outOfOrder, r.tooOld, r.firstError], [0, 1, 'too old sample for series o']);
    const [got] = await db.select([m('__name__="o"')], -Infinity, Infinity);
    assert.deepEqual([...got.timestamps], [70_000, 100_000, 105_000, 110_000, 120_000]);
    assert.deepEqual([...got.values], [70, 100, 105, 110, 120]);
    const [clipped] = await db.select([m('__name__="o"')], 100_000, 106_000);
    assert.deepEqual([...clipped.timestamps], [100_000, 105_000]);
    await db.close();
  });

  it('rejects them without a window', async () => {
    const db = await TSDB.open(tempDir());
    await db.append(one('o', 100_000, 1));
    assert.equal((await db.append(one('o', 99_000, 1))).outOfOrder, 1);
    await db.close();
  });
});

describe('TSDB retention', () => {
  it('deletes whole chunks older than the retention and series left empty', async () => {
    const db = await TSDB.open(tempDir());
    const hour = 3600_000;
    // "old" stops after 3h; "live" runs for 10h: chunks cut at 2h boundaries.
    for (let t = 0; t <= 10 * hour; t += 60_000) {
      const b = new SampleBatchBuilder();
      b.push(labelsFrom({ __name__: 'live' }), t, t);
      if (t <= 3 * hour) b.push(labelsFrom({ __name__: 'old' }), t, t);
      await db.append(b.build());
    }
    const r = await db.applyRetentionTime(5 * hour);
    assert.equal(r.deletedSeries, 1);
    assert.equal(r.deletedChunks, 3, 'live: [0h,2h) and [2h,4h); old: [0h,2h), its head goes with it');
    assert.deepEqual(await db.labelValues('__name__', [], -Infinity, Infinity), ['live']);
    const [live] = await db.select([m('__name__="live"')], -Infinity, Infinity);
    // Whole chunks go: the oldest sample left is at a chunk start, at most one chunk before the cutoff.
    assert.ok(live.timestamps[0] <= 5 * hour && live.timestamps[0] > 3 * hour, String(live.timestamps[0]));
    assert.equal(live.timestamps[live.timestamps.length - 1], 10 * hour);
    await db.close();
  });

  it('deletes the oldest data until the size limit holds', async () => {
    const dir = tempDir();
    const db = await TSDB.open(dir);
    for (let t = 0; t < 2000; t++) {
      const b = new SampleBatchBuilder();
      for (let i = 0; i < 50; i++)
        b.push(labelsFrom({ __name__: 's', i: String(i) }), t * 15_000, Math.random());
      await db.append(b.build());
    }
    await db.checkpoint();
    const before = (await db.analyze()).samples;
    const r = await db.applyRetentionSize(600 * 1024);
    assert.ok(r.deletedChunks > 0);
    const after = await db.analyze();
    assert.ok(after.samples < before, `${after.samples} < ${before}`);
    const [s] = await db.select([m('i="0"')], -Infinity, Infinity);
    assert.equal(s.timestamps[s.timestamps.length - 1], 1999 * 15_000, 'the newest data stays');
    await db.close();
  });
});

describe('TSDB delete_series and snapshots', () => {
  const hour = 3600_000;
  /** "a" every minute for 5h (sealed chunks and a head), "b" for the first hour only. */
  async function filled(dir: string, opts = {}) {
    const db = await TSDB.open(dir, opts);
    for (let t = 0; t <= 5 * hour; t += 60_000) {
      const b = new SampleBatchBuilder();
      b.push(labelsFrom({ __name__: 'a' }), t, t / 1000);
      if (t < hour) b.push(labelsFrom({ __name__: 'b' }), t, 1);
      await db.append(b.build());
    }
    return db;
  }
  const times = async (db: TSDB, name: string) => [
    ...((await db.select([m(`__name__="${name}"`)], -Infinity, Infinity))[0]?.timestamps ?? []),
  ];

  it('removes samples in the range from sealed chunks and the head, keeps the rest across a restart', async () => {
    const dir = tempDir();
    let db = await filled(dir, { outOfOrderTimeWindowMs: 10 * hour });
    await db.append(one('a', 90 * 60_000 + 30_000, -1)); // out of order, inside the deletion
    await db.append(one('a', 30_000, -2)); // out of order, kept
    const before = await times(db, 'a');
    const r = await db.deleteRange([m('__name__=~"a|b"')], 1 * hour, 4.5 * hour);
    const want = before.filter((t) => t < 1 * hour || t > 4.5 * hour);
    // "b" ends before the range: untouched.
    assert.deepEqual(r, { deletedSamples: before.length - want.length, deletedSeries: 0 });
    assert.deepEqual(await times(db, 'a'), want);
    assert.ok(want.includes(30_000) && !want.includes(90 * 60_000 + 30_000));
    await db.close();
    db = await TSDB.open(dir, { outOfOrderTimeWindowMs: 10 * hour });
    assert.deepEqual(await times(db, 'a'), want);
    assert.equal((await times(db, 'b')).length, 60);
    // Appending goes on after the newest kept sample.
    assert.equal((await db.append(one('a', 5 * hour + 60_000, 1))).appended, 1);
    await db.close();
  });

  it('keeps deleted newest samples deleted across a restart, though a checkpoint held them', async () => {
    const dir = tempDir();
    let db = await filled(dir);
    await db.checkpoint();
    await db.deleteRange([m('__name__="a"')], 4.5 * hour, 5 * hour);
    const want = (await times(db, 'a')).filter((t) => t < 4.5 * hour);
    await db.close();
    db = await TSDB.open(dir);
    assert.deepEqual(await times(db, 'a'), want);
    await db.close();
  });

  it('removes a series left without samples from the index', async () => {
    const db = await filled(tempDir());
    const r = await db.deleteRange([m('__name__="b"')], -Infinity, Infinity);
    assert.deepEqual(r, { deletedSamples: 60, deletedSeries: 1 });
    assert.deepEqual(await db.labelValues('__name__', [], -Infinity, Infinity), ['a']);
    assert.equal((await db.deleteRange([m('__name__="b"')], -Infinity, Infinity)).deletedSamples, 0);
    await db.close();
  });

  it('snapshots with the head or without it, and the copy opens as storage', async () => {
    const dir = tempDir();
    const db = await ShardedTSDB.open(dir, 2);
    for (let t = 0; t <= 3 * hour; t += 60_000) {
      const b = new SampleBatchBuilder();
      b.push(labelsFrom({ __name__: 'a' }), t, 1);
      await db.backfill(b.build());
    }
    const [full, sealed] = [join(tempDir(), 'full'), join(tempDir(), 'sealed')];
    await db.snapshot(full, true);
    await db.snapshot(sealed, false);
    await db.close();
    const read = async (path: string) => {
      const copy = await ShardedTSDB.open(path, 2);
      const [s] = await copy.select([m('__name__="a"')], -Infinity, Infinity);
      await copy.close();
      return [...s.timestamps];
    };
    const all = await read(full);
    assert.equal(all.length, 181);
    const withoutHead = await read(sealed);
    // Chunks are sealed at the 2h boundary: the head holds what came after it.
    assert.equal(withoutHead[withoutHead.length - 1] < 2 * hour, true, String(withoutHead.at(-1)));
    assert.deepEqual(withoutHead, all.slice(0, withoutHead.length));
  });
});

describe('ShardedTSDB', () => {
  it('places each series in one shard and fans reads out', async () => {
    const dir = tempDir();
    let db = await ShardedTSDB.open(dir, 3);
    const b = new SampleBatchBuilder();
    for (let i = 0; i < 30; i++) b.push(labelsFrom({ __name__: 'f', i: String(i) }), 1000, i);
    assert.equal((await db.backfill(b.build())).appended, 30);
    const perShard = db.shards.map((s) => s.stats().series);
    assert.equal(
      perShard.reduce((a, x) => a + x, 0),
      30,
    );
    assert.ok(
      perShard.every((n) => n > 0),
      perShard.join(),
    );
    assert.equal((await db.select([m('__name__="f"')], 0, 2000)).length, 30);
    assert.equal((await db.labelValues('i', [], -Infinity, Infinity)).length, 30);
    const a = await db.analyze();
    assert.equal(a.series, 30);
    assert.equal(a.samples, 30);
    await db.close();
    await assert.rejects(ShardedTSDB.open(dir, 4), /created with 3 shards, not 4/);
    db = await ShardedTSDB.open(dir, 3);
    assert.equal(db.seriesCount(), 30);
    await db.close();
  });
});

describe("the head's bounds and a future sample", () => {
  const min = 60_000;
  const hour = 3_600_000;
  const day = 24 * hour;

  // What Prometheus 3.16 answered for each, pushed by remote write after a sample at `now`.
  it('refuses what upstream refuses as out of bounds, without making its series', async () => {
    const db = await TSDB.open(tempDir());
    const now = Date.now();
    assert.equal((await db.append(one('base', now, 1))).appended, 1);
    const cases: Array<[string, number, 'appended' | 'outOfBounds']> = [
      ['t=0', 0, 'outOfBounds'],
      ['t=-5', -5, 'outOfBounds'],
      ['two hours old', now - 2 * hour, 'outOfBounds'],
      ['61 minutes old', now - 61 * min, 'outOfBounds'],
      ['59 minutes old', now - 59 * min, 'appended'],
    ];
    for (const [name, t, want] of cases) {
      const r = await db.append(one(`s_${name.replace(/\W/g, '_')}`, t, 1));
      assert.equal(r[want], 1, `${name}: ${JSON.stringify(r)}`);
      if (want === 'outOfBounds') assert.match(r.firstError ?? '', /^out of bounds for series s_/);
    }
    // The refused samples left no series in the index.
    assert.deepEqual((await db.labelValues('__name__', [], -Infinity, Infinity)).sort(), [
      'base',
      's_59_minutes_old',
    ]);
    await db.close();
  });

  it('with an out-of-order window, refuses what is older than it as too old', async () => {
    const db = await TSDB.open(tempDir(), { outOfOrderTimeWindowMs: 30 * min });
    const now = Date.now();
    await db.append(one('w', now, 1));
    const r = await db.append(one('w', now - 20 * min, 2));
    assert.deepEqual([r.appended, r.tooOld], [1, 0]);
    const old = await db.append(one('w', now - 40 * min, 3));
    assert.deepEqual([old.appended, old.tooOld, old.firstError], [0, 1, 'too old sample for series w']);
    // A new series takes its first sample anywhere above the head's bound (newest less an hour);
    // below it, outside the window, it is too old.
    assert.equal((await db.append(one('w_new', now - 40 * min, 3))).appended, 1);
    assert.equal((await db.append(one('w_newer', now - 70 * min, 3))).tooOld, 1);
    await db.close();
  });

  it('one sample 16 days ahead neither deletes the rest at retention nor shuts out real samples', async () => {
    const db = await TSDB.open(tempDir());
    const now = Date.now();
    const b = new SampleBatchBuilder();
    for (let i = 0; i < 100; i++) {
      const s = b.addSeries(labelsFrom({ __name__: 'up', i: String(i) }));
      for (let t = now - day; t <= now; t += hour) b.add(s, t, 1);
    }
    await db.append(b.build());
    // Stored before entry points refused such samples (a backfill, or an older release).
    await db.backfill(one('future', now + 16 * day, 1));
    // The head's bounds measure from no later than now + 10 minutes.
    assert.equal((await db.append(one('up', now + 1000, 1, { i: '0' }))).appended, 1);
    const r = await db.applyRetentionTime(15 * day, now);
    assert.deepEqual(r, { deletedChunks: 0, deletedSeries: 0 });
    const all = await db.select([m('__name__="up"')], -Infinity, Infinity);
    assert.equal(all.length, 100);
    assert.equal(
      all.reduce((n, s) => n + s.timestamps.length, 0),
      100 * 25 + 1,
    );
    await db.close();
  });
});
