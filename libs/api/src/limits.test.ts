import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parsePrometheusConfig } from '@pharos/config';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { Engine } from '@pharos/promql';
import { ShardedTSDB } from '@pharos/tsdb';
import { createApiServer, QueryLimiter } from './index.js';

// The query limits against real storage (LevelDB shards) with enough data that the heavy
// requests below run for many seconds when nothing stops them.
const SERIES = 3000;
const END = 3_600_000;
const WIDE = 150_000;
let dir: string;
let db: ShardedTSDB;

async function server(opts: { timeout: number; maxSamples?: number; maxConcurrency?: number }) {
  const engine = new Engine({ timeout: opts.timeout, maxSamples: opts.maxSamples ?? 1e12 });
  return createApiServer({
    queryable: db,
    engine,
    limiter: new QueryLimiter(opts.timeout, opts.maxConcurrency ?? 20),
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    config: () => parsePrometheusConfig('global:\n  scrape_interval: 15s\n'),
    flags: {},
    ready: () => true,
    startTime: new Date(0),
  });
}

async function timed(app: FastifyInstance, url: string) {
  const t0 = performance.now();
  const r = await app.inject({ method: 'GET', url });
  return { ms: performance.now() - t0, status: r.statusCode, body: r.json() as Record<string, unknown> };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pharos-limits-'));
  db = await ShardedTSDB.open(dir, 2);
  for (let t = 0; t <= END; t += 15_000) {
    const b = new SampleBatchBuilder();
    for (let i = 0; i < SERIES; i++) {
      b.add(
        b.addSeries(labelsFrom({ __name__: 'load_total', pod: `p${i % 30}`, i: String(i) })),
        t,
        t / 1000 + i,
      );
    }
    await db.backfill(b.build());
  }
  // Many series of one sample each: what makes /api/v1/series heavy.
  const wide = new SampleBatchBuilder();
  for (let i = 0; i < WIDE; i++)
    wide.add(wide.addSeries(labelsFrom({ __name__: 'wide_info', id: `w${i}` })), END, 1);
  await db.backfill(wide.build());
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('query limits that act', () => {
  const enc = encodeURIComponent;
  // Long enough that 10% of it is more than a busy machine's scheduling noise.
  const LIMIT = 3000;

  it('stops a long range query at the timeout, answering 503 within 10% of it', async () => {
    const app = await server({ timeout: LIMIT });
    try {
      const r = await timed(
        app,
        `/api/v1/query_range?query=${enc('sum by (i) (rate(load_total[5m]) * 2)')}&start=0&end=3600&step=1`,
      );
      assert.equal(r.status, 503, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.errorType, 'timeout');
      assert.ok(r.ms >= LIMIT && r.ms <= LIMIT * 1.1, `answered after ${r.ms.toFixed(0)} ms`);
    } finally {
      await app.close();
    }
  });

  it("stops a subquery at the request's own shorter timeout", async () => {
    const app = await server({ timeout: 60_000 });
    try {
      const r = await timed(
        app,
        `/api/v1/query?query=${enc('max_over_time(rate(load_total[1m])[1h:1s])')}&time=3600&timeout=3s`,
      );
      assert.equal(r.status, 503, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.errorType, 'timeout');
      assert.ok(r.ms >= LIMIT && r.ms <= LIMIT * 1.1, `answered after ${r.ms.toFixed(0)} ms`);
    } finally {
      await app.close();
    }
  });

  it('stops /api/v1/series at the timeout', async () => {
    // Series is cheap per series; its limit is set below what this read takes unstopped.
    const app = await server({ timeout: 60_000 });
    try {
      const url = `/api/v1/series?match[]=${enc('{__name__=~".+"}')}&match[]=${enc('{i=~".*1.*"}')}`;
      // The quickest of three unstopped reads (the first is slowed by warming up) sets the limit.
      let fastest = Infinity;
      for (let k = 0; k < 3; k++) {
        const full = await timed(app, url);
        assert.equal(full.status, 200);
        fastest = Math.min(fastest, full.ms);
      }
      const limit = Math.floor(fastest / 4);
      assert.ok(limit >= 20, `the full read took ${fastest.toFixed(0)} ms: too little to time out`);
      const limited = await server({ timeout: limit });
      try {
        const r = await timed(limited, url);
        assert.equal(r.status, 503, JSON.stringify(r.body).slice(0, 300));
        // Plus the one step not sliced: the index lookup of all 150k series (~20 ms, more on a busy machine).
        assert.ok(r.ms <= limit * 1.1 + 40, `answered after ${r.ms.toFixed(0)} ms for a ${limit} ms limit`);
      } finally {
        await limited.close();
      }
    } finally {
      await app.close();
    }
  });

  it('refuses a many-step query over --query.max-samples by the points it holds', async () => {
    // 3000 series x 3601 steps: about 10.8M points held by the result, only 720k samples loaded.
    const app = await server({ timeout: 60_000, maxSamples: 5_000_000 });
    try {
      const r = await timed(app, `/api/v1/query_range?query=${enc('load_total')}&start=0&end=3600&step=1`);
      assert.equal(r.status, 422, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.errorType, 'execution');
      assert.match(String(r.body.error), /query processing would load too many samples into memory/);
      const small = await timed(
        app,
        `/api/v1/query_range?query=${enc('load_total')}&start=0&end=3600&step=60`,
      );
      assert.equal(small.status, 200, 'the same data at a coarser step fits');
    } finally {
      await app.close();
    }
  });

  it('counts series, labels and federate against --query.max-concurrency', async () => {
    // One slot, held by a range query for its whole 2 s timeout: the others wait behind it.
    const app = await server({ timeout: 2000, maxConcurrency: 1 });
    try {
      const heavy = timed(
        app,
        `/api/v1/query_range?query=${enc('rate(load_total[5m])')}&start=0&end=3600&step=1`,
      );
      // Until the heavy query holds the slot (inject may start the requests in either order).
      await new Promise((res) => setTimeout(res, 100));
      let federated = false;
      const federate = app
        .inject({ method: 'GET', url: `/federate?match[]=${enc('load_total')}` })
        .finally(() => (federated = true));
      const [series, labels] = await Promise.all([
        timed(app, `/api/v1/series?match[]=${enc('load_total')}&timeout=1500ms`),
        timed(app, `/api/v1/labels?timeout=1500ms`),
      ]);
      assert.equal(series.status, 503);
      assert.match(String(series.body.error), /query timed out in query queue/);
      assert.equal(labels.status, 503);
      assert.match(String(labels.body.error), /query timed out in query queue/);
      assert.equal(federated, false, 'a federation read of 3000 series waited for the slot');
      assert.equal((await heavy).status, 503);
      await federate;
    } finally {
      await app.close();
    }
  });
});
