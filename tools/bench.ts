// `npm run bench -- <name> [--flag value ...]`: the project's benchmarks. Figures go to stdout.
//   tsdb:   --series (100000) --samples (720) --shards (2) --file-series (5000)
//   promql: --series (10000) --hours (6) --runs (5)
//   scrape: --series (100000) --seconds (300) --interval (5) --settle (15)
//   scrape-path: --series (100000) --scrapes (20) --shards (2)
//   cluster: --series (10000) --batches (300) --concurrency (4)
//   overload: --series (10000) --seconds (60)
//   bigtarget: --series (1000000) --push-series (900000) --split-series (900000) --seconds (180)
import { parseArgs } from 'node:util';
import { runBigTargetBench } from '../apps/e2e/src/bigtarget.bench.js';
import { runClusterBench } from '../apps/e2e/src/cluster.bench.js';
import { runOverloadBench } from '../apps/e2e/src/overload.bench.js';
import { runPromqlBench } from '../apps/e2e/src/promql.bench.js';
import { runScrapePathBench } from '../apps/e2e/src/scrape-path.bench.js';
import { runScrapeBench } from '../apps/e2e/src/scrape.bench.js';
import { runTsdbBench } from '../libs/tsdb/src/tsdb.bench.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    series: { type: 'string' },
    samples: { type: 'string' },
    shards: { type: 'string' },
    'file-series': { type: 'string' },
    hours: { type: 'string' },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    interval: { type: 'string' },
    settle: { type: 'string' },
    batches: { type: 'string' },
    scrapes: { type: 'string' },
    concurrency: { type: 'string' },
    'push-series': { type: 'string' },
    'split-series': { type: 'string' },
  },
});
const num = (v: string | undefined, dflt: number, min = Number.MIN_VALUE) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    console.error(
      `bench: expected a ${min === 0 ? 'non-negative' : 'positive'} number, got ${JSON.stringify(v)}`,
    );
    process.exit(2);
  }
  return n;
};

const benches: Record<string, () => Promise<void>> = {
  tsdb: () =>
    runTsdbBench({
      series: num(values.series, 100_000),
      samples: num(values.samples, 720),
      shards: num(values.shards, 2),
      fileSeries: num(values['file-series'], 5000),
    }),
  promql: () =>
    runPromqlBench({
      series: num(values.series, 10_000),
      hours: num(values.hours, 6),
      runs: num(values.runs, 5),
    }),
  scrape: () =>
    runScrapeBench({
      series: num(values.series, 100_000),
      // Five minutes hold one of Pharos' head checkpoints (every 5m) with the LevelDB work it
      // causes, as a running system pays them; a one-minute window was mostly the one-off flush
      // of the warm-up's index writes.
      seconds: num(values.seconds, 300),
      interval: num(values.interval, 5),
      settle: num(values.settle, 15),
    }),
  'scrape-path': () =>
    runScrapePathBench({
      series: num(values.series, 100_000),
      scrapes: num(values.scrapes, 20),
      shards: num(values.shards, 2),
    }),
  cluster: () =>
    runClusterBench({
      series: num(values.series, 10_000),
      batches: num(values.batches, 300),
      concurrency: num(values.concurrency, 4),
    }),
  overload: () => runOverloadBench({ series: num(values.series, 10_000), seconds: num(values.seconds, 60) }),
  bigtarget: () =>
    runBigTargetBench({
      series: num(values.series, 1_000_000),
      pushSeries: num(values['push-series'], 900_000),
      splitSeries: num(values['split-series'], 900_000, 0),
      seconds: num(values.seconds, 180),
    }),
};

const names = positionals.length > 0 ? positionals : Object.keys(benches);
for (const name of names) {
  const run = benches[name];
  if (!run) {
    console.error(`unknown benchmark ${name}; have: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  await run();
}
