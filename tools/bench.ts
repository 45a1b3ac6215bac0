// `npm run bench -- <name> [--flag value ...]`: the project's benchmarks. Figures go to stdout.
import { parseArgs } from 'node:util';
import { runTsdbBench } from '../libs/tsdb/src/tsdb.bench.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    series: { type: 'string', default: '100000' },
    samples: { type: 'string', default: '720' },
    shards: { type: 'string', default: '2' },
    'file-series': { type: 'string', default: '5000' },
  },
});

const benches: Record<string, () => Promise<void>> = {
  tsdb: () =>
    runTsdbBench({
      series: Number(values.series),
      samples: Number(values.samples),
      shards: Number(values.shards),
      fileSeries: Number(values['file-series']),
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
