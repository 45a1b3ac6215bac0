import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parsePrometheusConfig } from '@pharos/config';
import { staticGroups } from '@pharos/discovery';
import { Engine } from '@pharos/promql';
import { ScrapeManager } from '@pharos/scrape';
import { MemoryQueryable } from '@pharos/tsdb';
import { createApiServer } from './index.js';

let app: FastifyInstance;
let exporter: Server;
const scrape = new ScrapeManager({ publish: async () => undefined });

before(async () => {
  exporter = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      '# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total 3\n# TYPE temp gauge\ntemp 20\n',
    );
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
  const config = parsePrometheusConfig(`scrape_configs:
  - job_name: app
    scrape_interval: 1h
    scrape_timeout: 90s
    static_configs: [{targets: ['${address}', 'drop.me:1']}]
    relabel_configs:
      - source_labels: [__address__]
        regex: drop.*
        action: drop
  - job_name: other
    scrape_interval: 1h
    static_configs: [{targets: ['127.0.0.1:1']}]
`);
  await scrape.applyConfig(config);
  for (const cfg of config.scrapeConfigs) await scrape.setGroups(cfg.jobName, staticGroups(cfg));
  for (const { loop } of scrape.activeTargets()) await loop.scrapeOnce(Date.UTC(2026, 0, 1));
  app = await createApiServer({
    queryable: new MemoryQueryable(),
    engine: new Engine({ timeout: 5_000 }),
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    config: () => config,
    flags: {},
    scrape,
    ready: () => true,
    startTime: new Date(0),
    tsdbStatus: () => ({ numSeries: 0, chunkCount: 0, minTime: 0, maxTime: 0, pairs: [] }),
  });
});
after(async () => {
  await app.close();
  await scrape.stop();
  exporter.close();
});

async function data(url: string) {
  const r = await app.inject({ method: 'GET', url });
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { data: unknown }).data;
}

describe('targets API', () => {
  it('lists active targets with health, errors and intervals as upstream', async () => {
    const d = (await data('/api/v1/targets?state=active')) as {
      activeTargets: Array<Record<string, unknown>>;
      droppedTargets: unknown[];
    };
    assert.deepEqual(d.droppedTargets, []);
    const app0 = d.activeTargets.find((t) => t.scrapePool === 'app');
    assert.equal(app0?.health, 'up');
    assert.equal(app0?.lastScrape, '2026-01-01T00:00:00.000Z');
    assert.equal(app0?.scrapeInterval, '1h');
    assert.equal(app0?.scrapeTimeout, '1m30s');
    const other = d.activeTargets.find((t) => t.scrapePool === 'other');
    assert.equal(other?.health, 'down');
    assert.match(String(other?.lastError), /connection refused/);
  });

  it('lists dropped targets with counts per pool', async () => {
    const d = (await data('/api/v1/targets?state=dropped')) as {
      activeTargets: unknown[];
      droppedTargets: Array<{ discoveredLabels: Record<string, string> }>;
      droppedTargetCounts: Record<string, number>;
    };
    assert.deepEqual(d.activeTargets, []);
    assert.equal(d.droppedTargets[0].discoveredLabels.__address__, 'drop.me:1');
    assert.deepEqual(d.droppedTargetCounts, { app: 1, other: 0 });
  });

  it('serves /api/v1/targets/metadata with match_target, metric and limit', async () => {
    const all = (await data('/api/v1/targets/metadata?match_target={job="app"}')) as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      all.map((m) => [m.metric, m.type, m.help]),
      [
        ['jobs_total', 'counter', 'Jobs run.'],
        ['temp', 'gauge', ''],
      ],
    );
    assert.equal((all[0].target as Record<string, string>).job, 'app');
    const one = (await data('/api/v1/targets/metadata?metric=jobs_total')) as Array<Record<string, unknown>>;
    assert.deepEqual(one, [{ target: all[0].target, type: 'counter', help: 'Jobs run.', unit: '' }]);
    assert.deepEqual(await data('/api/v1/targets/metadata?match_target={job="nope"}'), []);
    const bad = await app.inject({ url: '/api/v1/targets/metadata?match_target={job=' });
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { errorType: string }).errorType, 'bad_data');
  });

  it('serves /api/v1/metadata and /api/v1/scrape_pools', async () => {
    assert.deepEqual(await data('/api/v1/metadata?metric=temp'), {
      temp: [{ type: 'gauge', help: '', unit: '' }],
    });
    assert.deepEqual(await data('/api/v1/scrape_pools'), { scrapePools: ['app', 'other'] });
  });
});
