// `npm run bench -- bigtarget`: more series than an operator planned for, from one target and
// from remote writers. Pharos and the real Prometheus 3 (../shared/tools/anchors.sh) in the same
// run scrape a local target serving a million series, then take 900k new series in one
// remote-write request and 900k more in requests of 100k, while a probe asks for /-/healthy and
// vector(1) every 250 ms. Each either stores the series or refuses them with a clear error; the
// report says which, how long the probes took, whether any went unanswered, and the peak RSS.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import type { Proc } from './harness.js';
import { anchorBinary, removeDir, ROOT, startPharos, startPrometheus, waitFor } from './harness.js';
import { probeCells, probeUntil } from './probes.js';
import { pushWrite } from './push.js';

export interface BigTargetBenchOptions {
  /** Series the target serves. */
  readonly series: number;
  /** New series in the one-request remote write. */
  readonly pushSeries: number;
  /** New series then written in requests of 100k (0: none). */
  readonly splitSeries: number;
  /** How long each system is probed, from its start. */
  readonly seconds: number;
}

const SCRAPE_INTERVAL_S = 30;
const REQUEST_TIMEOUT_MS = 120_000;
const STORED_WAIT_MS = 60_000;
const SPLIT_SERIES = 100_000;

/** Text exposition of `series` series with the label shape of a large exporter. */
function exposition(series: number): Buffer {
  const lines = ['# HELP bigtarget_series One of many.', '# TYPE bigtarget_series gauge'];
  for (let i = 0; i < series; i++)
    lines.push(
      `bigtarget_series{pod="pod-${i % 1000}",container="c-${Math.floor(i / 1000)}",id="${i}"} ${i % 977}`,
    );
  return Buffer.from(lines.join('\n') + '\n');
}

function writeBodies(name: string, series: number, perRequest: number, t: number): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  for (let from = 0; from < series; from += perRequest) {
    const b = new SampleBatchBuilder();
    for (let i = from; i < Math.min(series, from + perRequest); i++)
      b.add(b.addSeries(labelsFrom({ __name__: name, instance: `host-${i % 1000}`, id: String(i) })), t, i);
    bodies.push(snappyEncode(encodeWriteRequest(b.build())));
  }
  return bodies;
}

/** Status and the start of the body: the error a refusal gives is part of the outcome. */
async function push(url: string, body: Uint8Array): Promise<string> {
  const r = await pushWrite(url, body, REQUEST_TIMEOUT_MS);
  if (r instanceof Error) return `no answer (${r.message})`;
  const text = (await r.text()).trim().replace(/\s+/g, ' ');
  return text === '' ? String(r.status) : `${r.status} "${text.slice(0, 160)}"`;
}

interface TargetState {
  readonly health: string;
  readonly lastError: string;
  readonly lastScrapeDuration: number;
}

async function bigTarget(url: string): Promise<TargetState | undefined> {
  const r = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(10_000) }).catch(
    () => undefined,
  );
  if (!r?.ok) return undefined;
  const body = (await r.json()) as {
    data: { activeTargets: Array<TargetState & { labels: { job: string } }> };
  };
  return body.data.activeTargets.find((t) => t.labels.job === 'big');
}

async function count(url: string, expr: string): Promise<string> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  }).catch(() => undefined);
  if (!r) return 'no answer';
  const body = (await r.json()) as { data?: { result: Array<{ value: [number, string] }> }; error?: string };
  if (!r.ok) return `${r.status} ${body.error ?? ''}`;
  return body.data?.result[0]?.value[1] ?? '0';
}

interface Outcome {
  readonly scrape: string;
  readonly pushes: string[];
  readonly stored: string;
  readonly up: boolean;
}

interface Bodies {
  readonly single: Uint8Array;
  readonly split: Uint8Array[];
}

/** Encoded before the system starts, so that the encoding does not hold up the probes. */
function bodies(opts: BigTargetBenchOptions): Bodies {
  const t = Date.now();
  return {
    single: writeBodies('bigpush_single', opts.pushSeries, opts.pushSeries, t)[0],
    split: opts.splitSeries > 0 ? writeBodies('bigpush_split', opts.splitSeries, SPLIT_SERIES, t) : [],
  };
}

async function loadAgainst(url: string, proc: Proc, writes: Bodies, series: number): Promise<Outcome> {
  let scrape = 'no scrape finished';
  // After the first scrape: each scrape and write is then a system already holding the target.
  const first = await waitFor(
    'the first scrape of the big target',
    async () => {
      const t = await bigTarget(url);
      return t !== undefined && t.health !== 'unknown' ? t : undefined;
    },
    SCRAPE_INTERVAL_S * 3000,
  ).catch(() => undefined);
  if (first)
    scrape = `${first.health} in ${first.lastScrapeDuration.toFixed(1)} s${first.lastError ? `: ${first.lastError}` : ''}`;
  const pushes = [await push(url, writes.single)];
  const split: string[] = [];
  for (const body of writes.split) split.push(await push(url, body));
  const splitCounts = new Map<string, number>();
  for (const s of split) splitCounts.set(s, (splitCounts.get(s) ?? 0) + 1);
  pushes.push([...splitCounts].map(([s, n]) => `${n}× ${s}`).join(', ') || 'none');
  const last = await bigTarget(url);
  if (last) scrape += `; last: ${last.health}${last.lastError ? `: ${last.lastError}` : ''}`;
  // A scrape's samples are queryable a little after the target reports it, in both systems.
  const want = String(series);
  const stored = [
    `bigtarget_series ${await waitFor(
      'the target series to be queryable',
      async () => ((await count(url, 'count(bigtarget_series)')) === want ? want : undefined),
      STORED_WAIT_MS,
      2000,
    ).catch(async () => await count(url, 'count(bigtarget_series)'))}`,
  ];
  for (const m of ['bigpush_single', 'bigpush_split']) stored.push(`${m} ${await count(url, `count(${m})`)}`);
  return { scrape, pushes, stored: stored.join(', '), up: proc.child.exitCode === null };
}

export async function runBigTargetBench(opts: BigTargetBenchOptions): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'tools/bundle.mjs'), 'pharos'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building pharos failed');
  const body = exposition(opts.series);
  const target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((res) => target.listen(0, '127.0.0.1', res));
  const targetAddr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  const config = [
    `global: {scrape_interval: ${SCRAPE_INTERVAL_S}s, scrape_timeout: ${SCRAPE_INTERVAL_S - 5}s}`,
    'scrape_configs:',
    `  - job_name: big`,
    `    static_configs: [{targets: ['${targetAddr}']}]`,
    '',
  ].join('\n');
  console.log(
    `# bigtarget: a target of ${opts.series} series (${(body.length / 2 ** 20).toFixed(0)} MiB of text) scraped every ${SCRAPE_INTERVAL_S} s; remote writes of ${opts.pushSeries} new series in one request, then ${opts.splitSeries} more in requests of ${SPLIT_SERIES}; probes every 250 ms for ${opts.seconds} s`,
  );
  console.log(
    '| system | probes | unanswered | p50 ms | p99 ms | max ms | peak RSS MiB | up after | scrape | one request | split requests | series stored |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---|');
  const args = ['--web.enable-remote-write-receiver'];
  const systems: Array<[string, () => Promise<{ proc: Proc; url: string; dir: string }>]> = [
    ['Pharos', () => startPharos(() => config, { args })],
    [
      'Pharos, --storage.tsdb.max-head-series=1500000',
      () => startPharos(() => config, { args: [...args, '--storage.tsdb.max-head-series=1500000'] }),
    ],
    ['Prometheus 3', () => startPrometheus(config, { bin: anchorBinary('prometheus'), args })],
  ];
  // BENCH_SYSTEMS narrows a run to the systems named in it (separated by ';'), e.g. to profile one.
  const only = process.env.BENCH_SYSTEMS?.split(';');
  try {
    for (const [name, start] of systems.filter(([n]) => only === undefined || only.includes(n))) {
      const writes = bodies(opts);
      const sys = await start();
      try {
        const startedAt = Date.now();
        let finished = false;
        const probing = probeUntil(
          sys.url,
          sys.proc.child.pid as number,
          () => finished && Date.now() - startedAt >= opts.seconds * 1000,
        );
        const loaded = await loadAgainst(sys.url, sys.proc, writes, opts.series).finally(
          () => (finished = true),
        );
        const probed = await probing;
        const up = loaded.up && sys.proc.child.exitCode === null;
        console.log(
          `| ${name} | ${probeCells(probed)} | ${probed.peakRssMiB.toFixed(0)} | ${up ? 'yes' : `no (exit ${sys.proc.child.exitCode})`} | ${loaded.scrape} | ${loaded.pushes[0]} | ${loaded.pushes[1]} | ${loaded.stored} |`,
        );
        if (!up) console.log(`# ${name} stderr (end): ${sys.proc.stderr.slice(-2000)}`);
      } finally {
        await sys.proc.stop();
        removeDir(sys.dir);
      }
    }
  } finally {
    target.close();
  }
}
