import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { instantQuery, removeDir, startPharos, tempDir, waitFor, type Pharos } from './harness.js';

interface ApiTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  health: string;
  lastError: string;
  lastScrape: string;
}
interface TargetsResponse {
  data: { activeTargets: ApiTarget[]; droppedTargets: Array<{ discoveredLabels: Record<string, string> }> };
}

/** An exporter on loopback answering with a fixed status. */
async function exporter(status: number): Promise<{ server: Server; address: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(status === 200 ? '# TYPE demo_total counter\ndemo_total 1\n' : 'boom');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('service discovery and reload in the all-in-one server', () => {
  const dir = tempDir('pharos-e2e-sd-');
  const targetsFile = join(dir, 'targets.json');
  let good: Awaited<ReturnType<typeof exporter>>;
  let bad: Awaited<ReturnType<typeof exporter>>;
  let pharos: Pharos;
  const configFor =
    (extraJob = '') =>
    (port: number) => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: files
    file_sd_configs:
      - files: ['${join(dir, '*.json')}']
    relabel_configs:
      - source_labels: [role]
        regex: ignored
        action: drop
  - job_name: self
    static_configs: [{targets: ['127.0.0.1:${port}']}]
${extraJob}`;
  const targets = async (query = '') =>
    ((await (await fetch(`${pharos.url}/api/v1/targets${query}`)).json()) as TargetsResponse).data;
  const find = async (address: string) =>
    (await targets()).activeTargets.find((t) => t.discoveredLabels.__address__ === address);

  before(async () => {
    good = await exporter(200);
    bad = await exporter(500);
    writeFileSync(targetsFile, JSON.stringify([{ targets: [good.address], labels: { team: 'a' } }]));
    pharos = await startPharos(configFor(), { dir, args: ['--web.enable-lifecycle'] });
  });
  after(async () => {
    await pharos?.proc.stop();
    good.server.close();
    bad.server.close();
    removeDir(dir);
  });

  it('scrapes targets from file_sd_configs and shows them in /api/v1/targets', async () => {
    const t = await waitFor('the file target to be scraped', async () => {
      const x = await find(good.address);
      return x?.health === 'up' ? x : undefined;
    });
    assert.equal(t.scrapePool, 'files');
    assert.equal(t.discoveredLabels.__meta_filepath, targetsFile);
    assert.deepEqual(t.labels, { instance: good.address, job: 'files', team: 'a' });
    const v = await waitFor('demo_total', async () => {
      const r = await instantQuery(pharos.url, `demo_total{instance="${good.address}"}`);
      return r.length > 0 ? r : undefined;
    });
    assert.equal(v[0].metric.team, 'a');
  });

  it('adds a target written to the file, reports its error, and lists dropped targets', async () => {
    writeFileSync(
      targetsFile,
      JSON.stringify([
        { targets: [good.address], labels: { team: 'a' } },
        { targets: [bad.address] },
        { targets: ['127.0.0.1:1'], labels: { role: 'ignored' } },
      ]),
    );
    const t = await waitFor('the failing target to be scraped', async () => {
      const x = await find(bad.address);
      return x && x.health === 'down' ? x : undefined;
    });
    assert.equal(t.lastError, 'server returned HTTP status 500 Internal Server Error');
    assert.equal((await find(good.address))?.health, 'up', 'a bad target does not stop the others');
    const metrics = await (await fetch(`${pharos.url}/metrics`)).text();
    assert.match(metrics, /^prometheus_sd_discovered_targets\{[^}]*config="files"[^}]*\} 3$/m);
    const dropped = await targets('?state=dropped');
    assert.deepEqual(dropped.activeTargets, []);
    assert.ok(dropped.droppedTargets.some((d) => d.discoveredLabels.__address__ === '127.0.0.1:1'));
    const pools = (await (await fetch(`${pharos.url}/api/v1/scrape_pools`)).json()) as {
      data: { scrapePools: string[] };
    };
    assert.deepEqual(pools.data.scrapePools, ['files', 'self']);
    const onlySelf = await targets('?scrapePool=self');
    assert.ok(
      onlySelf.activeTargets.every((x) => x.scrapePool === 'self') && onlySelf.activeTargets.length === 1,
    );
  });

  it('reloads through POST /-/reload keeping unchanged targets, and refuses a broken config', async () => {
    const lastScrapeBefore = (await find(good.address))?.lastScrape;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      configFor(`  - job_name: extra\n    static_configs: [{targets: ['${good.address}']}]\n`)(pharos.port),
    );
    const r = await fetch(`${pharos.url}/-/reload`, { method: 'POST' });
    assert.equal(r.status, 200, await r.text());
    await waitFor('the new job', async () =>
      (await targets()).activeTargets.some((x) => x.scrapePool === 'extra') ? true : undefined,
    );
    // The unchanged target kept its loop: its series are not new to it after the reload.
    const reloadedAt = Date.now() / 1000;
    await waitFor('a scrape after the reload', async () => {
      const x = await find(good.address);
      return x && x.lastScrape !== lastScrapeBefore && Date.parse(x.lastScrape) / 1000 > reloadedAt
        ? true
        : undefined;
    });
    const added = await instantQuery(
      pharos.url,
      `scrape_series_added{job="files",instance="${good.address}"}`,
    );
    const hist = await instantQuery(
      pharos.url,
      `scrape_series_added{job="files",instance="${good.address}"}[30s]`,
    );
    assert.equal(added[0].value[1], '0', `${JSON.stringify(hist)}\n${pharos.proc.stderr.slice(-8000)}`);

    writeFileSync(
      join(dir, 'prometheus.yml'),
      'scrape_configs:\n  - job_name: files\n    scrape_interval: 1x\n',
    );
    const refused = await fetch(`${pharos.url}/-/reload`, { method: 'POST' });
    assert.equal(refused.status, 500);
    assert.match(await refused.text(), /prometheus\.yml:3: .*not a valid duration/);
    const metrics = await (await fetch(`${pharos.url}/metrics`)).text();
    assert.match(metrics, /^prometheus_config_last_reload_successful 0$/m);
    const info = (await (await fetch(`${pharos.url}/api/v1/status/runtimeinfo`)).json()) as {
      data: { reloadConfigSuccess: boolean };
    };
    assert.equal(info.data.reloadConfigSuccess, false);
    assert.ok(
      (await targets()).activeTargets.some((x) => x.scrapePool === 'extra'),
      'the old config stays in force',
    );

    // SIGHUP applies a fixed file.
    writeFileSync(join(dir, 'prometheus.yml'), configFor()(pharos.port));
    pharos.proc.child.kill('SIGHUP');
    await waitFor('the SIGHUP reload', async () =>
      /^prometheus_config_last_reload_successful 1$/m.test(
        await (await fetch(`${pharos.url}/metrics`)).text(),
      )
        ? true
        : undefined,
    );
    await waitFor('the extra job to go', async () =>
      (await targets()).activeTargets.some((x) => x.scrapePool === 'extra') ? undefined : true,
    );
  });
});
