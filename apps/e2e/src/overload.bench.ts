// `npm run bench -- overload`: one careless client beside everyone else. Pharos and the real
// Prometheus 3 (../shared/tools/anchors.sh) in the same run get the same preloaded data, then
// six loops of heavy requests (everything counted, a 1 h range at 1 s step, a deep subquery,
// /api/v1/series and /federate for everything) and six remote writers, while a probe asks for
// /-/healthy and vector(1) every 250 ms. What matters is the probes' latency and that none
// goes unanswered; the heavy requests are answered or refused by their limits.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import type { Proc } from './harness.js';
import { anchorBinary, removeDir, ROOT, startPharos, startPrometheus } from './harness.js';
import { probeCells, probeUntil, type ProbeOutcome } from './probes.js';
import { pushWrite } from './push.js';

export interface OverloadBenchOptions {
  /** Series preloaded (one hour at 15 s) before the load starts. */
  readonly series: number;
  readonly seconds: number;
}

interface Outcome extends ProbeOutcome {
  readonly heavy: Map<string, number>;
  readonly writes: { ok: number; failed: number };
}

const HEAVY_TIMEOUT_MS = 60_000;

async function push(url: string, body: Uint8Array): Promise<boolean> {
  const r = await pushWrite(url, body, HEAVY_TIMEOUT_MS);
  if (r instanceof Error) return false;
  await r.arrayBuffer();
  return r.status === 204;
}

function batchAt(name: string, series: number, t: number, v: number): Uint8Array {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < series; i++) {
    b.add(
      b.addSeries(
        labelsFrom({ __name__: name, instance: `host-${i % 100}`, path: `/p${Math.floor(i / 100)}` }),
      ),
      t,
      v + i,
    );
  }
  return snappyEncode(encodeWriteRequest(b.build()));
}

async function preload(url: string, series: number, now: number): Promise<void> {
  for (let t = now - 3_600_000, k = 0; t <= now; t += 15_000, k++) {
    if (!(await push(url, batchAt('overload_requests_total', series, t, k * 10))))
      throw new Error(`preloading ${url} failed at ${new Date(t).toISOString()}`);
  }
}

async function loadAgainst(url: string, pid: number, seconds: number): Promise<Outcome> {
  const stopAt = Date.now() + seconds * 1000;
  const heavy = new Map<string, number>();
  const count = (kind: string, status: string) => {
    const k = `${kind} ${status}`;
    heavy.set(k, (heavy.get(k) ?? 0) + 1);
  };
  const enc = encodeURIComponent;
  const requests: Array<[string, (now: number) => string]> = [
    ['count-all', () => `/api/v1/query?query=${enc('count({__name__=~".+"})')}`],
    [
      'range-1h-1s',
      (now) =>
        `/api/v1/query_range?query=${enc('rate(overload_requests_total[1m])')}&start=${now - 3600}&end=${now}&step=1`,
    ],
    [
      'subquery',
      () => `/api/v1/query?query=${enc('max_over_time(rate(overload_requests_total[1m])[1h:1s])')}`,
    ],
    ['series-all', () => `/api/v1/series?match[]=${enc('{__name__=~".+"}')}`],
    ['federate-all', () => `/federate?match[]=${enc('{__name__=~".+"}')}`],
    [
      'sum-range',
      (now) =>
        `/api/v1/query_range?query=${enc('sum by (path) (rate(overload_requests_total[5m]))')}&start=${now - 3600}&end=${now}&step=5`,
    ],
  ];
  const heavyLoops = requests.map(async ([kind, path]) => {
    while (Date.now() < stopAt) {
      const r = await fetch(`${url}${path(Date.now() / 1000)}`, {
        signal: AbortSignal.timeout(HEAVY_TIMEOUT_MS),
      }).catch((e: unknown) => (e instanceof Error ? e.name : 'error'));
      if (typeof r === 'string') count(kind, r);
      else {
        await r.arrayBuffer().catch(() => undefined);
        count(kind, String(r.status));
      }
    }
  });
  const writes = { ok: 0, failed: 0 };
  const writers = Array.from({ length: 6 }, async (_, w) => {
    while (Date.now() < stopAt) {
      const ok = await push(url, batchAt(`overload_pushed_${w}`, 1000, Date.now(), Date.now() / 1000));
      if (ok) writes.ok++;
      else writes.failed++;
      await new Promise((res) => setTimeout(res, 1000));
    }
  });
  const probed = await probeUntil(url, pid, () => Date.now() >= stopAt);
  await Promise.all([...heavyLoops, ...writers]);
  return { ...probed, heavy, writes };
}

function report(name: string, o: Outcome): void {
  const heavy = [...o.heavy.entries()]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  console.log(
    `| ${name} | ${probeCells(o)} | ${o.writes.ok}/${o.writes.ok + o.writes.failed} | ${o.peakRssMiB.toFixed(0)} | ${heavy} |`,
  );
}

export async function runOverloadBench(opts: OverloadBenchOptions): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'tools/bundle.mjs'), 'pharos'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building pharos failed');
  const args = ['--web.enable-remote-write-receiver', '--query.timeout=20s'];
  const config = 'global: {scrape_interval: 15s}\n';
  console.log(
    `# overload: ${opts.series} series preloaded (1 h at 15 s), ${opts.seconds} s of 6 heavy loops + 6 writers (1000 series/s each), probes every 250 ms`,
  );
  console.log(
    '| system | probes | unanswered | p50 ms | p99 ms | max ms | writes ok | peak RSS MiB | heavy requests (kind status: count) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  const now = Date.now();
  const systems: Array<[string, () => Promise<{ proc: Proc; url: string; dir: string }>]> = [
    ['Pharos', () => startPharos(() => config, { args })],
    ['Prometheus 3', () => startPrometheus(config, { bin: anchorBinary('prometheus'), args })],
  ];
  for (const [name, start] of systems) {
    const sys = await start();
    try {
      await preload(sys.url, opts.series, now);
      report(name, await loadAgainst(sys.url, sys.proc.child.pid as number, opts.seconds));
    } finally {
      await sys.proc.stop();
      removeDir(sys.dir);
    }
  }
}
