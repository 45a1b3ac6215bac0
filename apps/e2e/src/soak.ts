// `npm run soak -- [--minutes 10] [--series 5000] [--interval 30]`: the embedded system under
// steady load on loopback for a bounded time: a scraped target, remote_write pushes and a query
// mix. Every interval it reports memory and query latency; at the end it says whether memory
// levelled off (the last third of the run no more than 10% above the middle third).
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import { freePort, listen, removeDir, ROOT, startPharos, usage } from './harness.js';

interface Row {
  minute: number;
  rssMiB: number;
  heapMiB: number;
  series: number;
  queries: number;
  p50: number;
  p99: number;
  errors: number;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function runSoak(opts: {
  minutes: number;
  series: number;
  intervalSeconds: number;
}): Promise<boolean> {
  const build = spawnSync(process.execPath, [`${ROOT}/tools/bundle.mjs`, 'pharos'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building pharos failed');
  // The scraped target: `series` counters that move every scrape, in a process of our own.
  let tick = 0;
  const target = createServer((_req, res) => {
    tick++;
    const lines: string[] = ['# TYPE soak_requests_total counter'];
    for (let i = 0; i < opts.series; i++)
      lines.push(`soak_requests_total{pod="p${i % 50}",path="/${i}"} ${tick + i}`);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n') + '\n');
  });
  const targetPort = await freePort();
  await listen(target, targetPort);
  const pharos = await startPharos(
    (port) => `global: {scrape_interval: 5s, scrape_timeout: 5s}
scrape_configs:
  - job_name: self
    static_configs: [{targets: ['127.0.0.1:${port}']}]
  - job_name: soak
    static_configs: [{targets: ['127.0.0.1:${targetPort}']}]
`,
    { args: ['--web.enable-remote-write-receiver'] },
  );
  const pid = pharos.proc.child.pid as number;
  const end = Date.now() + opts.minutes * 60_000;
  let stop = false;
  let latencies: number[] = [];
  let errors = 0;

  // remote_write: 1000 series every second, as a small Prometheus would send.
  const pusher = (async () => {
    while (!stop) {
      const b = new SampleBatchBuilder();
      const t = Date.now();
      for (let i = 0; i < 1000; i++)
        b.add(b.addSeries(labelsFrom({ __name__: 'soak_pushed', i: String(i) })), t, t / 1000);
      const r = await fetch(`${pharos.url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' },
        body: snappyEncode(encodeWriteRequest(b.build())),
      }).catch(() => undefined);
      if (r?.status !== 204) errors++;
      await new Promise((res) => setTimeout(res, 1000));
    }
  })();
  // Queries: the dashboard mix, about five a second.
  const queries = [
    'sum by (pod) (rate(soak_requests_total[1m]))',
    'topk(5, rate(soak_requests_total[5m]))',
    'count(soak_pushed)',
    'histogram_quantile(0.9, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[5m])))',
  ];
  const querier = (async () => {
    for (let k = 0; !stop; k++) {
      const q = encodeURIComponent(queries[k % queries.length]);
      const now = Date.now() / 1000;
      const url =
        k % 2 === 0
          ? `${pharos.url}/api/v1/query?query=${q}`
          : `${pharos.url}/api/v1/query_range?query=${q}&start=${now - 600}&end=${now}&step=15`;
      const t0 = performance.now();
      const r = await fetch(url).catch(() => undefined);
      if (r?.ok) {
        await r.arrayBuffer();
        latencies.push(performance.now() - t0);
      } else errors++;
      await new Promise((res) => setTimeout(res, 200));
    }
  })();

  const rows: Row[] = [];
  const started = Date.now();
  console.log(
    `# soak: ${opts.minutes} min, ${opts.series} scraped series every 5 s, 1000 pushed per s, ~5 queries/s`,
  );
  console.log('| minute | RSS MiB | heap MiB | head series | queries | p50 ms | p99 ms | errors |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  try {
    while (Date.now() < end) {
      await new Promise((res) =>
        setTimeout(res, Math.min(opts.intervalSeconds * 1000, Math.max(0, end - Date.now()))),
      );
      const row: Row = {
        minute: (Date.now() - started) / 60_000,
        rssMiB: usage(pid).rssMiB,
        heapMiB: (await metric(pharos.url, 'nodejs_heap_size_used_bytes')) / 2 ** 20,
        series: await metric(pharos.url, 'prometheus_tsdb_head_series'),
        queries: latencies.length,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        errors,
      };
      rows.push(row);
      latencies = [];
      errors = 0;
      console.log(
        `| ${row.minute.toFixed(1)} | ${row.rssMiB.toFixed(0)} | ${row.heapMiB.toFixed(0)} | ${row.series} | ${row.queries} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.errors} |`,
      );
    }
  } finally {
    stop = true;
    await Promise.all([pusher, querier]);
    await pharos.proc.stop();
    target.close();
    removeDir(pharos.dir);
  }
  const third = Math.floor(rows.length / 3);
  const mean = (xs: Row[]) => xs.reduce((a, r) => a + r.rssMiB, 0) / Math.max(1, xs.length);
  const middle = mean(rows.slice(third, 2 * third));
  const last = mean(rows.slice(2 * third));
  const growth = middle > 0 ? last / middle - 1 : 0;
  const ok = rows.length >= 3 && growth <= 0.1 && rows.every((r) => r.errors === 0);
  console.log(
    `\nRSS, middle third ${middle.toFixed(0)} MiB, last third ${last.toFixed(0)} MiB: ${(growth * 100).toFixed(1)}% ` +
      (ok ? '(levelled off, no errors)' : '(GROWING or errors: see the table)'),
  );
  return ok;
}

const { values } = parseArgs({
  options: { minutes: { type: 'string' }, series: { type: 'string' }, interval: { type: 'string' } },
});
const positive = (name: string, v: string | undefined, dflt: number): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!(n > 0)) throw new Error(`soak: --${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
};
const ok = await runSoak({
  minutes: positive('minutes', values.minutes, 10),
  series: positive('series', values.series, 5000),
  intervalSeconds: positive('interval', values.interval, 30),
});
process.exitCode = ok ? 0 : 1;
