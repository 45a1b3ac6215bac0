import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatLabels, LabelMatcher, labelsFrom, SampleBatchBuilder, type MatchType } from '@pharos/model';
import { TSDB } from './index.js';

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
    // The newest time is known after a restart, so an old sample is still out of order.
    const b = new SampleBatchBuilder();
    b.push(ls, 100, 1);
    assert.equal((await db.append(b.build())).outOfOrder, 1);
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
      { appended: 1, outOfOrder: 1, duplicate: 1, invalid: 0, firstError: 'out of order sample' },
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
