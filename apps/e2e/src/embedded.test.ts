import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  freePort,
  instantQuery,
  PHAROS_MAIN,
  Proc,
  removeDir,
  requireBinary,
  startPharos,
  tempDir,
  waitFor,
  type Pharos,
} from './harness.js';

const selfScrape = (port: number) => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pharos
    static_configs:
      - targets: ["127.0.0.1:${port}"]
`;

const cleanup: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('embedded mode, end to end', () => {
  let pharos: Pharos;

  it('scrapes itself and answers up through the query API', async () => {
    pharos = await startPharos(selfScrape);
    cleanup.push(
      () => removeDir(pharos.dir),
      () => pharos.proc.stop(),
    );
    const up = await waitFor('up to be scraped', async () => {
      const r = await instantQuery(pharos.url, 'up');
      return r.length > 0 ? r : undefined;
    });
    assert.deepEqual(up[0].metric, { __name__: 'up', instance: `127.0.0.1:${pharos.port}`, job: 'pharos' });
    assert.equal(up[0].value[1], '1');
  });

  it('is queried by the real promtool', async () => {
    const promtool = requireBinary('promtool');
    const r = spawnSync(promtool, ['query', 'instant', pharos.url, 'up'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^up\\{instance="127\\.0\\.0\\.1:${pharos.port}", job="pharos"\\} => 1 @\\[\\d+(\\.\\d+)?\\]$`,
        'm',
      ),
    );
  });

  it('answers promtool query range, series and labels', async () => {
    const promtool = requireBinary('promtool');
    const run = (...args: string[]) => {
      const r = spawnSync(promtool, ['query', ...args], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, `promtool query ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await waitFor('three scrapes', async () => {
      const v = await instantQuery(pharos.url, 'count_over_time(up[1m])');
      return v.length > 0 && Number(v[0].value[1]) >= 3 ? true : undefined;
    });
    const now = Math.floor(Date.now() / 1000);
    const range = run('range', `--start=${now - 30}`, `--end=${now}`, '--step=1s', pharos.url, 'up');
    assert.match(range, /^up\{instance="127\.0\.0\.1:\d+", job="pharos"\} =>\n1 @\[\d+\]$/m);
    const series = run('series', '--match=up', pharos.url);
    assert.match(series, /^\{__name__="up", instance="127\.0\.0\.1:\d+", job="pharos"\}$/m);
    const labels = run('labels', pharos.url, 'job');
    assert.match(labels, /^pharos$/m);
  });

  it('answers rate() and sum by () over scraped counters', async () => {
    const r = await waitFor('two scrapes for rate', async () => {
      const v = await instantQuery(pharos.url, 'sum by (job) (rate(prometheus_http_requests_total[10s]))');
      return v.length > 0 ? v : undefined;
    });
    assert.deepEqual(r[0].metric, { job: 'pharos' });
    assert.ok(Number(r[0].value[1]) > 0);
  });

  it('keeps data across a restart', async () => {
    await waitFor('eight scrapes', async () => {
      const v = await instantQuery(pharos.url, 'count_over_time(up[1m])');
      return v.length > 0 && Number(v[0].value[1]) >= 8 ? true : undefined;
    });
    // A few seconds back: samples newer than that may still be on their way into storage.
    const end = Date.now() / 1000 - 3;
    const start = end - 60;
    const rangeUrl = (p: Pharos) => `${p.url}/api/v1/query_range?query=up&start=${start}&end=${end}&step=1`;
    const before = await (await fetch(rangeUrl(pharos))).json();
    assert.equal(await pharos.proc.stop(), 0, 'a SIGTERM stop exits 0');
    pharos = await startPharos(selfScrape, { dir: pharos.dir, port: pharos.port });
    cleanup.push(() => pharos.proc.stop());
    const afterRestart = await (await fetch(rangeUrl(pharos))).json();
    assert.deepEqual(afterRestart, before);
    const values = (before as { data: { result: Array<{ values: unknown[] }> } }).data.result[0].values;
    assert.ok(values.length >= 5, `expected several points before the restart, got ${values.length}`);
  });

  it('keeps every stored scrape across kill -9', async () => {
    // A few seconds back: samples newer than that may still be on their way into storage.
    const end = Date.now() / 1000 - 3;
    const start = end - 120;
    const rangeUrl = (p: Pharos) =>
      `${p.url}/api/v1/query_range?query=scrape_samples_scraped&start=${start}&end=${end}&step=1`;
    // Only ingested samples are queryable; each was on disk in the log before it was queryable.
    const before = await (await fetch(rangeUrl(pharos))).json();
    assert.equal(await pharos.proc.stop('SIGKILL'), null, 'killed, not exited');
    pharos = await startPharos(selfScrape, { dir: pharos.dir, port: pharos.port });
    cleanup.push(() => pharos.proc.stop());
    const afterRestart = await (await fetch(rangeUrl(pharos))).json();
    assert.deepEqual(afterRestart, before);
  });
});

describe('scraping a real node exporter', () => {
  it('finds node_cpu_seconds_total through the query API', async () => {
    const exporter = requireBinary('prometheus-node-exporter');
    const port = await freePort();
    const ne = new Proc(
      spawn(
        exporter,
        [
          `--web.listen-address=127.0.0.1:${port}`,
          '--collector.disable-defaults',
          '--collector.cpu',
          '--collector.meminfo',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    cleanup.push(() => ne.stop());
    await waitFor('node exporter', async () =>
      (await fetch(`http://127.0.0.1:${port}/metrics`)).ok ? true : undefined,
    );
    const p = await startPharos(
      () => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:${port}"]
`,
    );
    cleanup.push(
      () => removeDir(p.dir),
      () => p.proc.stop(),
    );
    const r = await waitFor('node_cpu_seconds_total', async () => {
      const v = await instantQuery(p.url, 'node_cpu_seconds_total{mode="idle"}');
      return v.length > 0 ? v : undefined;
    });
    assert.equal(r[0].metric.job, 'node');
    assert.equal(r[0].metric.instance, `127.0.0.1:${port}`);
    assert.ok(Number(r[0].value[1]) > 0);
  });
});

describe('a broken config', () => {
  it('fails at start with the file, line and reason', async () => {
    const dir = tempDir('pharos-badcfg-');
    cleanup.push(() => removeDir(dir));
    const cfg = join(dir, 'bad.yml');
    writeFileSync(
      cfg,
      'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: x\n    scrape_interval: often\n',
    );
    const r = spawnSync(
      process.execPath,
      [
        PHAROS_MAIN,
        `--config.file=${cfg}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        '--web.listen-address=127.0.0.1:0',
      ],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: scrape_interval: not a valid duration string: "often"`,
      ),
    );
  });

  it('fails at start when the file is missing', async () => {
    const r = spawnSync(
      process.execPath,
      [PHAROS_MAIN, '--config.file=/nonexistent/prometheus.yml', '--web.listen-address=127.0.0.1:0'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/nonexistent\/prometheus.yml: cannot read file: ENOENT/);
  });

  it('fails at start, in one line, on a broken web config file', async () => {
    const dir = tempDir('pharos-badweb-');
    cleanup.push(() => removeDir(dir));
    writeFileSync(join(dir, 'prometheus.yml'), 'scrape_configs: []\n');
    writeFileSync(join(dir, 'web.yml'), 'basic_auth_users:\n  alice: hunter2\n');
    const r = spawnSync(
      process.execPath,
      [
        PHAROS_MAIN,
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        '--web.listen-address=127.0.0.1:0',
        `--web.config.file=${join(dir, 'web.yml')}`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^pharos: error loading web config: .*web\.yml:2: crypto\/bcrypt: bcrypt hashes must start with '\$'/m,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
