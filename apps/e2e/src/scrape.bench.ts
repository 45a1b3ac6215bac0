// `npm run bench -- scrape`: one target exposing N series, scraped by Pharos and by the real
// Prometheus (Debian) at the same interval in the same run; CPU seconds per million samples
// scraped and ingested, from each process's /proc/<pid>/stat.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  Proc,
  removeDir,
  ROOT,
  startPharos,
  startPrometheus,
  threadUsage,
  usage,
  waitFor,
} from './harness.js';

export interface ScrapeBenchOptions {
  readonly series: number;
  readonly seconds: number;
  readonly interval: number;
  /** Seconds to wait after the warm-up scrapes before measuring. */
  readonly settle: number;
}

/** The target runs in its own process, so serving the body costs neither scraper anything. */
const TARGET_SCRIPT = `
const http = require('node:http');
const n = Number(process.argv[1]);
const lines = (v) => {
  const out = ['# HELP bench_requests_total Requests handled.', '# TYPE bench_requests_total counter'];
  for (let i = 0; i < n; i++)
    out.push('bench_requests_total{path="/api/' + (i % 100) + '",pod="pod-' + Math.floor(i / 100) + '",code="200"} ' + (v + i));
  return Buffer.from(out.join('\\n') + '\\n');
};
let k = 0;
const bodies = [lines(1), lines(2), lines(3)];
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end(bodies[k++ % bodies.length]);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function scalar(url: string, q: string): Promise<number> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const b = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return b.data.result.length > 0 ? Number(b.data.result[0].value[1]) : 0;
}

export async function runScrapeBench(opts: ScrapeBenchOptions): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'tools/bundle.mjs'), 'pharos'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building pharos failed');
  const target = new Proc(
    spawn(process.execPath, ['-e', TARGET_SCRIPT, String(opts.series)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const targetPort = await waitFor('the bench target', async () => {
    const p = Number(target.stdout.trim());
    return p > 0 ? p : undefined;
  });
  const config = () => `global:
  scrape_interval: ${opts.interval}s
  scrape_timeout: ${opts.interval}s
scrape_configs:
  - job_name: bench
    static_configs: [{targets: ['127.0.0.1:${targetPort}']}]
`;
  console.log(
    `# scrape bench: one target with ${opts.series} series, every ${opts.interval}s, measured over ${opts.seconds}s`,
  );
  const pharos = await startPharos(config);
  const prom = await startPrometheus(config());
  try {
    const systems = [
      { name: 'Pharos', url: pharos.url, pid: pharos.proc.child.pid as number },
      { name: 'Prometheus', url: prom.url, pid: prom.proc.child.pid as number },
    ];
    // Warm-up: the first scrapes create the series (and their index writes settle in the
    // background); steady state is what a running system costs.
    for (const s of systems)
      await waitFor(
        `${s.name} to store three scrapes`,
        async () => ((await scalar(s.url, 'count_over_time(up{job="bench"}[5m])')) >= 3 ? true : undefined),
        120_000,
        500,
      );
    await new Promise((r) => setTimeout(r, opts.settle * 1000));
    const before = systems.map((s) => usage(s.pid));
    const threadsBefore = systems.map((s) => threadUsage(s.pid));
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    const after = systems.map((s) => usage(s.pid));
    const threadsAfter = systems.map((s) => threadUsage(s.pid));
    const window = Math.round((Date.now() - t0) / 1000);
    // Give the last scrape time to be stored before counting.
    await new Promise((r) => setTimeout(r, 2000));
    console.log('| system | samples scraped | CPU s | CPU s per 1M samples | RSS MiB |');
    console.log('|---|---:|---:|---:|---:|');
    const perMillion: number[] = [];
    for (const [i, s] of systems.entries()) {
      const samples = await scalar(s.url, `sum_over_time(scrape_samples_scraped{job="bench"}[${window}s])`);
      const cpu = after[i].cpu - before[i].cpu;
      const pm = cpu / (samples / 1e6);
      perMillion.push(pm);
      console.log(
        `| ${s.name} | ${samples} | ${cpu.toFixed(2)} | ${pm.toFixed(3)} | ${after[i].rssMiB.toFixed(0)} |`,
      );
    }
    console.log(`\nPharos / Prometheus CPU per sample: ${(perMillion[0] / perMillion[1]).toFixed(2)}`);
    for (const [i, s] of systems.entries()) {
      const spent = [...threadsAfter[i]]
        .map(([name, cpu]) => [name, cpu - (threadsBefore[i].get(name) ?? 0)] as const)
        .filter(([, cpu]) => cpu >= 0.01)
        .sort((a, b) => b[1] - a[1])
        .map(([name, cpu]) => `${name} ${cpu.toFixed(2)}`);
      console.log(`${s.name} CPU s by thread: ${spent.join(', ')}`);
    }
  } finally {
    await prom.proc.stop();
    await pharos.proc.stop();
    await target.stop();
    removeDir(prom.dir);
    removeDir(pharos.dir);
  }
}
