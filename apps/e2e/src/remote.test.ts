import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  anchorBinary,
  freePort,
  instantQuery,
  listen,
  Proc,
  removeDir,
  requireBinary,
  startPharos,
  startPrometheus,
  tempDir,
  waitFor,
  type Pharos,
} from './harness.js';
import { rawWriteRequest, type RawLabel, type RawSeries } from '@pharos/remote/testing';

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

/** A value of one of a Prometheus' own counters, summed over its series that match `match`. */
async function counter(url: string, name: string, match: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Prometheus 3 (built by ../shared/tools/anchors.sh) sends remote write 2.0, which Pharos does not
 * store yet: Pharos answers 415. A sender that falls back to 1.0 on 415 would then deliver every
 * sample; Prometheus 3.16 does not fall back (a 415 is a 4xx it drops), so what must hold is that
 * nothing it sent as 2.0 was acknowledged. A 1.0 remote beside it shows the same samples arrive.
 */
describe('Prometheus 3 sending remote write 2.0 to Pharos', () => {
  it('gets 415 and nothing it sent as 2.0 is acknowledged; the same samples over 1.0 arrive', async () => {
    const pharos = await startPharos(() => 'global: {scrape_interval: 1h}\n', {
      args: ['--web.enable-remote-write-receiver'],
    });
    cleanup.push(() => pharos.proc.stop());
    cleanup.push(() => removeDir(pharos.dir));
    const via = (name: string) => `
  - url: ${pharos.url}/api/v1/write
    name: ${name}
    protobuf_message: ${name === 'v2' ? 'io.prometheus.write.v2.Request' : 'prometheus.WriteRequest'}
    write_relabel_configs: [{target_label: via, replacement: ${name}}]
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}`;
    const prom = await startPrometheus(
      `
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: self
    static_configs: [{targets: ['127.0.0.1:1']}]
remote_write:${via('v1')}${via('v2')}
`,
      { bin: anchorBinary('prometheus') },
    );
    cleanup.push(() => prom.proc.stop());
    cleanup.push(() => removeDir(prom.dir));

    // The 1.0 remote delivers: the up series of the (unreachable) target arrives.
    await waitFor(
      'samples over remote write 1.0',
      async () => {
        const v = await instantQuery(pharos.url, 'count_over_time(up{via="v1"}[1m])');
        return v.length > 0 && Number(v[0].value[1]) >= 3 ? v : undefined;
      },
      60_000,
    );
    // Either it falls back to 1.0 (its samples arrive tagged v2) or it gives them up as failed.
    const seen = await waitFor(
      'Prometheus to fall back to 1.0 or count its 2.0 samples as failed',
      async () => {
        const arrived = await instantQuery(pharos.url, 'count_over_time(up{via="v2"}[5m])');
        if (arrived.length > 0) return 'fell back' as const;
        const failed = await counter(prom.url, 'prometheus_remote_storage_samples_failed_total', {
          remote_name: 'v2',
        });
        return failed > 0 ? ('no fallback' as const) : undefined;
      },
      60_000,
    );
    const refused = await counter(pharos.url, 'pharos_remote_write_rejected_requests_total', {
      reason: 'content_type',
    });
    assert.ok(refused > 0, 'Pharos answered the 2.0 requests 415');
    if (seen === 'fell back') {
      // Every sample it scraped arrives over both remotes: the same counts.
      await waitFor('the same samples over both remotes', async () => {
        const [a] = await instantQuery(pharos.url, 'count_over_time(up{via="v1"}[5m])');
        const [b] = await instantQuery(pharos.url, 'count_over_time(up{via="v2"}[5m])');
        return a && b && a.value[1] === b.value[1] ? true : undefined;
      });
      return;
    }
    // Prometheus 3.16, observed: no fallback. Nothing it sent as 2.0 was stored or acknowledged,
    // and it did not retry what it was told could never be taken.
    assert.deepEqual(await instantQuery(pharos.url, 'count_over_time({via="v2"}[5m])'), []);
    assert.equal(
      await counter(prom.url, 'prometheus_remote_storage_samples_retried_total', { remote_name: 'v2' }),
      0,
    );
  });
});

/**
 * One table of remote write requests against the embedded process and Prometheus 3.16 side by
 * side: each answer of Prometheus is asserted too, so a difference is one the table names.
 */
describe('remote write requests: Pharos beside Prometheus 3', () => {
  const now = Date.now();
  const day = 86_400_000;
  const s = (name: string, t: number, v = 1, extra: RawLabel[] = []): RawSeries => [
    [['__name__', name], ...extra],
    [[t, v]],
  ];
  // [name, series, Pharos' status, Prometheus 3.16's status, what Pharos answers]
  const table: Array<[string, RawSeries[], number, number, RegExp]> = [
    ['a first sample of c', [s('c', now)], 204, 204, /^$/],
    [
      'c out of order, beside a valid series',
      [s('c_other', now), s('c', now - 1000, 2)],
      400,
      400,
      /^out of order sample for series c \(1 of 2 samples refused, the others stored\)$/,
    ],
    [
      'c again at its time with another value',
      [s('d_other', now), s('c', now, 5)],
      400,
      400,
      /^duplicate sample for timestamp \d+; overrides not allowed: existing 1, new value 5 for series c/,
    ],
    ['c resent as it was', [s('c', now)], 204, 204, /^$/],
    ['t=0', [s('e', 0)], 400, 400, /^out of bounds for series e /],
    ['t=-5', [s('e2', -5)], 400, 400, /^out of bounds for series e2 /],
    ['two hours old', [s('e3', now - 2 * 3_600_000)], 400, 400, /^out of bounds for series e3 /],
    [
      '16 days ahead, beside a valid series',
      [s('b_other', now), s('b', now + 16 * day)],
      400,
      400,
      /^out of bounds: timestamp is too far in the future for series b$/,
    ],
    // Prometheus 3.16 answers 204 and drops the series unseen; Pharos names it and stores nothing.
    ['invalid UTF-8', [s('f', now, 1, [['x', Uint8Array.of(0x66, 0xff)]])], 400, 204, /must be UTF-8/],
    ['no metric name', [[[['job', 'x']], [[now, 1]]]], 400, 204, /no metric name/],
  ];
  // Prometheus 3.16 rolls a 1.0 request back whole at the first sample it refuses; Pharos stores
  // the rest and says so (a sender drops the batch on 400 either way, so less is lost).
  const storedBeside: Record<string, [pharos: boolean, prometheus: boolean]> = {
    c_other: [true, false],
    d_other: [true, false],
    b_other: [false, false],
  };

  it('answers each as the table says, and Prometheus 3.16 as its column says', async () => {
    const pharos = await startPharos(() => 'global: {scrape_interval: 1h}\n', {
      args: ['--web.enable-remote-write-receiver'],
    });
    cleanup.push(() => pharos.proc.stop());
    cleanup.push(() => removeDir(pharos.dir));
    const prom = await startPrometheus('global: {scrape_interval: 1h}\n', {
      bin: anchorBinary('prometheus'),
      args: ['--web.enable-remote-write-receiver'],
    });
    cleanup.push(() => prom.proc.stop());
    cleanup.push(() => removeDir(prom.dir));
    const post = async (url: string, series: RawSeries[]) => {
      const r = await fetch(`${url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        body: rawWriteRequest(series),
      });
      return { status: r.status, body: (await r.text()).trim() };
    };
    for (const [name, series, want, upstream, body] of table) {
      const got = await post(pharos.url, series);
      const theirs = await post(prom.url, series);
      assert.equal(theirs.status, upstream, `Prometheus 3.16, ${name}: ${theirs.body}`);
      assert.equal(got.status, want, `Pharos, ${name}: ${got.body}`);
      assert.match(got.body, body, name);
    }
    for (const [metric, [ours, theirs]] of Object.entries(storedBeside)) {
      assert.equal((await instantQuery(pharos.url, metric)).length > 0, ours, `Pharos has ${metric}`);
      assert.equal((await instantQuery(prom.url, metric)).length > 0, theirs, `Prometheus has ${metric}`);
    }
    // Refused whole by both: nothing of it is queryable.
    for (const metric of ['b', '{__name__="f"}', '{job="x"}', 'e', 'e3'])
      assert.deepEqual(await instantQuery(pharos.url, metric), [], metric);
  });
});

/**
 * The future-timestamp case end to end: a sample 16 days ahead, pushed or scraped with its own
 * timestamp, is refused, and a retention pass (one runs at start) keeps every earlier sample.
 */
describe('a sample 16 days ahead deletes nothing', () => {
  it('is refused over remote write and when scraped, and a restart with retention keeps the rest', async () => {
    const now = Date.now();
    const future = now + 16 * 86_400_000;
    const target = createServer((_req, res) => {
      const t = Date.now();
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`scraped_future 1 ${t + 16 * 86_400_000}\nscraped_now 2\nscraped_with_time 3 ${t}\n`);
    });
    const targetPort = await freePort();
    await listen(target, targetPort);
    cleanup.push(() => new Promise<void>((r) => target.close(() => r())));
    const config = () => `
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: probe
    static_configs: [{targets: ['127.0.0.1:${targetPort}']}]
`;
    const args = ['--web.enable-remote-write-receiver', '--storage.tsdb.retention.time=15d'];
    const first = await startPharos(config, { args });
    const dir = first.dir;
    cleanup.push(() => removeDir(dir));
    const push = (series: RawSeries[]) =>
      fetch(`${first.url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        body: rawWriteRequest(series),
      });
    // 12,000 samples over the last 20 minutes: 200 series of 60.
    for (let i = 0; i < 200; i++) {
      const samples: Array<[number, number]> = [];
      for (let k = 0; k < 60; k++) samples.push([now - 20 * 60_000 + k * 20_000, k]);
      assert.equal(
        (
          await push([
            [
              [
                ['__name__', 'pushed'],
                ['i', String(i)],
              ],
              samples,
            ],
          ])
        ).status,
        204,
      );
    }
    const r = await push([[[['__name__', 'pushed_future']], [[future, 1]]]]);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /too far in the future/);
    await waitFor('three scrapes', async () => {
      const v = await instantQuery(first.url, 'count_over_time(scraped_now[1m])');
      return v.length > 0 && Number(v[0].value[1]) >= 3 ? v : undefined;
    });
    assert.deepEqual(await instantQuery(first.url, 'scraped_future'), []);
    const refused = await (await fetch(`${first.url}/metrics`)).text();
    assert.match(refused, /^prometheus_target_scrapes_sample_out_of_bounds_total [1-9]/m);
    await first.proc.stop();

    // Retention runs as the process starts: 15d, measured from no later than now.
    const second = await startPharos(config, { dir, port: first.port, args });
    cleanup.push(() => second.proc.stop());
    const count = await instantQuery(second.url, 'sum(count_over_time(pushed[30m]))');
    assert.equal(count[0]?.value[1], '12000');
    assert.equal((await instantQuery(second.url, 'up{job="probe"}'))[0]?.value[1], '1');
    assert.ok((await instantQuery(second.url, 'count_over_time(scraped_with_time[10m])')).length > 0);
  });
});
