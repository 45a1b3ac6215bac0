// `npm run bench -- promql`: typical dashboard queries over the same data in Pharos and in
// Debian's Prometheus, both loaded through remote write, latency side by side.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelsFrom, type Labels, type SampleBatch } from '@pharos/model';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import { freePort, Proc, removeDir, requireBinary, ROOT, startPharos, tempDir, waitFor } from './harness.js';

export interface PromqlBenchOptions {
  series: number;
  hours: number;
  runs: number;
}

const STEP_MS = 15_000;

const QUERIES: string[] = [
  'sum by (job) (rate(http_requests_total[5m]))',
  'sum by (code) (rate(http_requests_total{job="api"}[5m]))',
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))',
  '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100',
  'topk(5, sum by (instance) (rate(node_network_receive_bytes_total[5m])))',
  'max_over_time(process_resident_memory_bytes[1h])',
  'avg_over_time(node_memory_MemAvailable_bytes[10m])',
  'rate(http_requests_total{instance="host-7:9100"}[5m])',
  'count by (job) (up)',
];

/** About `series` series in shapes a node exporter and an instrumented service produce. */
function seriesSet(target: number): Array<{ labels: Labels; counter: boolean; base: number }> {
  const out: Array<{ labels: Labels; counter: boolean; base: number }> = [];
  // 137 series per instance: two jobs of service metrics plus a node exporter's.
  const instances = Math.max(1, Math.round(target / 137));
  for (let i = 0; i < instances; i++) {
    const instance = `host-${i}:9100`;
    for (const job of ['api', 'web']) {
      out.push({ labels: labelsFrom({ __name__: 'up', job, instance }), counter: false, base: 1 });
      out.push({
        labels: labelsFrom({ __name__: 'process_resident_memory_bytes', job, instance }),
        counter: false,
        base: 2e8,
      });
      for (const handler of ['/', '/api', '/login', '/search', '/metrics'])
        for (const code of ['200', '500'])
          out.push({
            labels: labelsFrom({ __name__: 'http_requests_total', job, instance, handler, code }),
            counter: true,
            base: code === '200' ? 10 : 0.1,
          });
      for (const le of ['0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf'])
        out.push({
          labels: labelsFrom({ __name__: 'http_request_duration_seconds_bucket', job, instance, le }),
          counter: true,
          base: 10 * (1 - 1 / (2 + Number(le.replace('+Inf', '100')))),
        });
    }
    for (let cpu = 0; cpu < 8; cpu++)
      for (const mode of ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal'])
        out.push({
          labels: labelsFrom({ __name__: 'node_cpu_seconds_total', instance, cpu: String(cpu), mode }),
          counter: true,
          base: mode === 'idle' ? 0.8 : 0.03,
        });
    for (let d = 0; d < 40; d++)
      out.push({
        labels: labelsFrom({ __name__: 'node_network_receive_bytes_total', instance, device: `eth${d}` }),
        counter: true,
        base: 1000 * (d + 1),
      });
    out.push({
      labels: labelsFrom({ __name__: 'node_memory_MemAvailable_bytes', instance }),
      counter: false,
      base: 4e9,
    });
  }
  return out;
}

/** Remote-write requests of `stepsPerRequest` consecutive steps for every series, oldest first. */
function* writeRequests(
  set: ReturnType<typeof seriesSet>,
  start: number,
  steps: number,
  stepsPerRequest: number,
): Generator<Uint8Array> {
  const state = set.map((s) => (s.counter ? 0 : s.base));
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let k = 0; k < steps; k += stepsPerRequest) {
    const n = Math.min(stepsPerRequest, steps - k);
    const refs = new Uint32Array(set.length * n);
    const ts = new Float64Array(set.length * n);
    const vs = new Float64Array(set.length * n);
    let i = 0;
    for (let s = 0; s < set.length; s++) {
      for (let j = 0; j < n; j++) {
        const x = set[s];
        state[s] = x.counter
          ? state[s] + Math.round(x.base * 15 * (0.5 + rand()))
          : Math.round(x.base * (0.9 + 0.2 * rand()));
        refs[i] = s;
        ts[i] = start + (k + j) * STEP_MS;
        vs[i] = state[s];
        i++;
      }
    }
    const batch: SampleBatch = {
      series: set.map((x) => x.labels),
      hashes: set.map(() => ''),
      refs,
      timestamps: ts,
      values: vs,
    };
    yield snappyEncode(encodeWriteRequest(batch));
  }
}

async function push(url: string, body: Uint8Array): Promise<void> {
  const r = await fetch(`${url}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body,
  });
  if (r.status !== 204 && r.status !== 200)
    throw new Error(`${url}: remote write answered ${r.status}: ${await r.text()}`);
}

async function timeQuery(
  url: string,
  q: string,
  start: number,
  end: number,
): Promise<{ ms: number; series: number }> {
  const params = new URLSearchParams({
    query: q,
    start: String(start / 1000),
    end: String(end / 1000),
    step: '60',
  });
  const t0 = performance.now();
  const r = await fetch(`${url}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
  const body = (await r.json()) as { status: string; data?: { result: unknown[] }; error?: string };
  const ms = performance.now() - t0;
  if (body.status !== 'success') throw new Error(`${url}: ${q}: ${body.error}`);
  return { ms, series: body.data?.result.length ?? 0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runPromqlBench(opts: PromqlBenchOptions): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'tools/bundle.mjs'), 'pharos'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building pharos failed');
  const prometheusBin = requireBinary('prometheus');
  const set = seriesSet(opts.series);
  const steps = Math.floor((opts.hours * 3600_000) / STEP_MS);
  const end = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const start = end - (steps - 1) * STEP_MS;
  console.log(
    `# promql bench: ${set.length} series x ${steps} samples (${opts.hours}h at 15s), ${opts.runs} runs per query`,
  );

  const pharos = await startPharos(() => 'scrape_configs: []\n', {
    args: ['--web.enable-remote-write-receiver', '--query.max-samples=500000000'],
  });
  const promDir = tempDir('prometheus-bench-');
  const promPort = await freePort();
  const promUrl = `http://127.0.0.1:${promPort}`;
  writeFileSync(join(promDir, 'prometheus.yml'), 'scrape_configs: []\n');
  const prom = new Proc(
    spawn(
      prometheusBin,
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--web.enable-remote-write-receiver',
        '--query.max-samples=500000000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  try {
    await waitFor('Prometheus', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
    const t0 = performance.now();
    let requests = 0;
    for (const body of writeRequests(set, start, steps, 10)) {
      await Promise.all([push(pharos.url, body), push(promUrl, body)]);
      requests++;
    }
    console.log(
      `loaded ${set.length * steps} samples into both with ${requests} remote write requests in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
    // Pharos stores asynchronously behind its write-ahead log: wait until the newest step is queryable.
    await waitFor(
      'Pharos to store everything',
      async () => {
        const r = await fetch(`${pharos.url}/api/v1/query?query=count(up)&time=${end / 1000}`);
        const b = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
        return b.data.result.length > 0 &&
          Number(b.data.result[0].value[1]) === set.filter((s) => s.labels[0].value === 'up').length
          ? true
          : undefined;
      },
      600_000,
      500,
    );

    console.log('| query | Pharos median ms | Prometheus median ms | ratio | series |');
    console.log('|---|---:|---:|---:|---:|');
    let worst = 0;
    for (const q of QUERIES) {
      const ours: number[] = [];
      const theirs: number[] = [];
      let series = 0;
      let theirSeries = 0;
      for (let i = 0; i < opts.runs; i++) {
        const a = await timeQuery(pharos.url, q, start, end);
        const b = await timeQuery(promUrl, q, start, end);
        ours.push(a.ms);
        theirs.push(b.ms);
        series = a.series;
        theirSeries = b.series;
      }
      const ratio = median(ours) / median(theirs);
      worst = Math.max(worst, ratio);
      const mismatch = series === theirSeries ? '' : ` (Prometheus: ${theirSeries})`;
      console.log(
        `| \`${q}\` | ${median(ours).toFixed(1)} | ${median(theirs).toFixed(1)} | ${ratio.toFixed(2)} | ${series}${mismatch} |`,
      );
    }
    console.log(`worst ratio Pharos/Prometheus: ${worst.toFixed(2)} (goal: at most 2)`);
  } finally {
    await prom.stop();
    await pharos.proc.stop();
    removeDir(promDir);
    removeDir(pharos.dir);
  }
}
