import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  freePort,
  instantQuery,
  Proc,
  removeDir,
  requireBinary,
  startPharos,
  tempDir,
  waitFor,
  type Pharos,
} from './harness.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Debian's real Prometheus, scraping itself, remote-writing to and remote-reading from Pharos. */
describe('a real Prometheus with remote_write and remote_read to Pharos', () => {
  let pharos: Pharos;
  let promUrl: string;

  it('starts both', async () => {
    const prometheus = requireBinary('prometheus');
    pharos = await startPharos(
      (port) => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pharos
    static_configs:
      - targets: ["127.0.0.1:${port}"]
`,
      { args: ['--web.enable-remote-write-receiver'] },
    );
    cleanup.push(() => pharos.proc.stop());
    cleanup.push(() => removeDir(pharos.dir));

    const dir = tempDir('prometheus-e2e-');
    cleanup.push(() => removeDir(dir));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `
global:
  scrape_interval: 1s
  external_labels:
    sender: debian-prometheus
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:${port}"]
remote_write:
  - url: ${pharos.url}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
remote_read:
  - url: ${pharos.url}/api/v1/read
    read_recent: true
    # Otherwise Prometheus adds its external labels as matchers, which Pharos series do not carry.
    filter_external_labels: false
`,
    );
    const proc = new Proc(
      spawn(
        prometheus,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    cleanup.push(() => proc.stop());
    await waitFor('Prometheus to be ready', async () => {
      if (proc.child.exitCode !== null) throw new Error(`prometheus exited: ${proc.stderr}`);
      return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
    });
  });

  it('delivers its samples to Pharos over remote_write', async () => {
    const got = await waitFor(
      'remote-written samples in Pharos',
      async () => {
        const v = await instantQuery(pharos.url, 'up{job="prometheus"}');
        return v.length > 0 ? v : undefined;
      },
      60_000,
    );
    assert.equal(got[0].metric.sender, 'debian-prometheus');
    assert.equal(got[0].value[1], '1');
    const counters = await instantQuery(
      pharos.url,
      'count(prometheus_http_requests_total{sender="debian-prometheus"})',
    );
    assert.ok(Number(counters[0].value[1]) > 0);
  });

  it('reads series it never scraped from Pharos over remote_read', async () => {
    // Only Pharos scrapes job="pharos"; Prometheus can answer for it only by reading from Pharos.
    const got = await waitFor('remote-read samples through Prometheus', async () => {
      const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="pharos"}')}`);
      const body = (await r.json()) as { data: { result: Array<{ metric: Record<string, string> }> } };
      return body.data.result.length > 0 ? body.data.result : undefined;
    });
    assert.equal(got[0].metric.instance, new URL(pharos.url).host);
  });
});
