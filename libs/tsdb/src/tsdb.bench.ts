// `npm run bench -- tsdb`: ingest rate, memory per active series, select latency, restart time,
// and bytes per sample next to Debian's promtool on the same OpenMetrics file.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelMatcher, labelsFrom, labelsHash, type Labels, type SampleBatch } from '@pharos/model';
import { importOpenMetrics, ShardedTSDB } from './index.js';

export interface TsdbBenchOptions {
  series: number;
  samples: number;
  shards: number;
  /** Series in the OpenMetrics file for the bytes-per-sample comparison. */
  fileSeries: number;
}

const STEP_MS = 15_000;
const START_MS = Date.UTC(2026, 0, 1);
const METRICS = 100;

function duSync(path: string): number {
  let total = 0;
  for (const f of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, f.name);
    total += f.isDirectory() ? duSync(p) : statSync(p).size;
  }
  return total;
}

function seriesSet(n: number): { labels: Labels[]; hashes: string[] } {
  const labels: Labels[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(
      labelsFrom({
        __name__: `bench_metric_${i % METRICS}`,
        instance: `host-${Math.floor(i / METRICS)}:9100`,
        job: 'bench',
        kind: i % 2 === 0 ? 'counter' : 'gauge',
      }),
    );
  }
  return { labels, hashes: labels.map((l) => labelsHash(l)) };
}

/** Realistic values: counters grow by varying amounts, gauges wander with two decimals. */
class ValueModel {
  private readonly state: Float64Array;
  private seed = 12345;

  constructor(private readonly n: number) {
    this.state = new Float64Array(n);
    for (let i = 0; i < n; i++) this.state[i] = i % 2 === 0 ? 0 : 50 + (i % 50);
  }

  private rand(): number {
    this.seed = (this.seed * 1103515245 + 12345) & 0x7fffffff;
    return this.seed / 0x7fffffff;
  }

  step(out: Float64Array): void {
    for (let i = 0; i < this.n; i++) {
      if (i % 2 === 0) this.state[i] += Math.floor(this.rand() * 100);
      else this.state[i] = Math.round((this.state[i] + (this.rand() - 0.5) * 4) * 100) / 100;
      out[i] = this.state[i];
    }
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function ingest(opts: TsdbBenchOptions, dir: string): Promise<void> {
  const { labels, hashes } = seriesSet(opts.series);
  const refs = Uint32Array.from({ length: opts.series }, (_, i) => i);
  const values = new ValueModel(opts.series);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const db = await ShardedTSDB.open(dir, opts.shards);
  let appended = 0;
  const started = process.hrtime.bigint();
  for (let k = 0; k < opts.samples; k++) {
    const v = new Float64Array(opts.series);
    values.step(v);
    const batch: SampleBatch = {
      series: labels,
      hashes,
      refs,
      timestamps: new Float64Array(opts.series).fill(START_MS + k * STEP_MS),
      values: v,
    };
    appended += (await db.backfill(batch)).appended;
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(`ingest: ${appended} samples (${opts.series} series x ${opts.samples}) in ${secs.toFixed(1)}s`);
  console.log(`ingest: ${Math.round(appended / secs).toLocaleString('en')} samples/s`);
  console.log(
    `memory: ${((heapAfter - heapBefore) / opts.series).toFixed(0)} bytes of heap per active series ` +
      `(head chunks, labels, index; heap ${(heapAfter / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
  );

  // 1,000 series (one metric name) over the newest 2 h: what a dashboard panel asks for.
  const end = START_MS + (opts.samples - 1) * STEP_MS;
  const matchers = [new LabelMatcher('=', '__name__', 'bench_metric_7')];
  const lat: number[] = [];
  let got = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = process.hrtime.bigint();
    const res = await db.select(matchers, end - 2 * 3600_000, end);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    got = res.reduce((n, s) => n + s.timestamps.length, 0);
  }
  const nSeries = Math.ceil(opts.series / METRICS);
  console.log(
    `select: ${nSeries} series x 2h (${got} samples): p50 ${percentile(lat, 50).toFixed(1)} ms, ` +
      `p90 ${percentile(lat, 90).toFixed(1)} ms`,
  );

  const closeStart = process.hrtime.bigint();
  await db.close();
  const closeSecs = Number(process.hrtime.bigint() - closeStart) / 1e9;
  const openStart = process.hrtime.bigint();
  const again = await ShardedTSDB.open(dir, opts.shards);
  const openSecs = Number(process.hrtime.bigint() - openStart) / 1e9;
  console.log(
    `restart: checkpoint and close ${closeSecs.toFixed(2)}s, open with ${again.seriesCount()} active series ` +
      `${openSecs.toFixed(2)}s`,
  );
  const onDisk = duSync(dir);
  console.log(`disk: ${(onDisk / 2 ** 20).toFixed(1)} MiB, ${(onDisk / appended).toFixed(2)} bytes/sample`);
  await again.close();
}

async function writeOpenMetrics(path: string, series: number, samples: number): Promise<number> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve));
  const values = new ValueModel(series);
  // Grouped by series, as promtool's input is usually laid out: all samples of one series in a row.
  const all: Float64Array[] = [];
  for (let k = 0; k < samples; k++) {
    const v = new Float64Array(series);
    values.step(v);
    all.push(v);
  }
  let n = 0;
  // One family at a time (OpenMetrics does not allow interleaving), all samples of a series in a row.
  for (let m = 0; m < METRICS && m < series; m++) {
    const kind = m % 2 === 0 ? 'counter' : 'gauge';
    const name = `bench_metric_${m}`;
    await write(`# TYPE ${name} ${kind}\n`);
    const seriesName = kind === 'counter' ? `${name}_total` : name;
    for (let i = m; i < series; i += METRICS) {
      const lbl = `{instance="host-${Math.floor(i / METRICS)}:9100",job="bench"}`;
      let text = '';
      for (let k = 0; k < samples; k++) {
        text += `${seriesName}${lbl} ${all[k][i]} ${(START_MS + k * STEP_MS) / 1000}\n`;
        n++;
      }
      await write(text);
    }
  }
  await write('# EOF\n');
  await new Promise<void>((resolve) => out.end(resolve));
  return n;
}

async function compareWithPromtool(opts: TsdbBenchOptions, dir: string): Promise<void> {
  const file = join(dir, 'bench.om');
  const samples = await writeOpenMetrics(file, opts.fileSeries, opts.samples);
  console.log(
    `file: ${opts.fileSeries} series x ${opts.samples} samples, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB OpenMetrics`,
  );

  const ours = join(dir, 'pharos');
  const db = await ShardedTSDB.open(ours, opts.shards, { outOfOrderTimeWindowMs: Infinity });
  const t0 = process.hrtime.bigint();
  const r = await importOpenMetrics(file, db);
  await db.close();
  const oursSecs = Number(process.hrtime.bigint() - t0) / 1e9;
  const oursBytes = duSync(ours);
  console.log(
    `pharos import: ${r.samples} samples in ${oursSecs.toFixed(1)}s, ${oursBytes} bytes, ` +
      `${(oursBytes / samples).toFixed(3)} bytes/sample`,
  );

  const theirs = join(dir, 'promtool');
  const t1 = process.hrtime.bigint();
  const p = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', file, theirs], {
    encoding: 'utf8',
  });
  const theirSecs = Number(process.hrtime.bigint() - t1) / 1e9;
  if (p.error || p.status !== 0) {
    console.log(`promtool: not run (${p.error?.message ?? p.stderr.trim()})`);
    return;
  }
  const theirBytes = duSync(theirs);
  console.log(
    `promtool create-blocks-from openmetrics: ${theirSecs.toFixed(1)}s, ${theirBytes} bytes, ` +
      `${(theirBytes / samples).toFixed(3)} bytes/sample`,
  );
  console.log(`ratio pharos/promtool bytes: ${(oursBytes / theirBytes).toFixed(2)}`);
}

export async function runTsdbBench(opts: TsdbBenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pharos-bench-'));
  try {
    console.log(`# tsdb bench: ${JSON.stringify(opts)}`);
    await ingest(opts, join(dir, 'ingest'));
    await compareWithPromtool(opts, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
