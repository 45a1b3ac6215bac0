import { Command, Option } from 'commander';
import { ExpositionError } from '@pharos/exposition';
import { formatAnalysis, importOpenMetrics, recordedShardCount, ShardedTSDB } from '@pharos/tsdb';

function fail(msg: string): never {
  process.stderr.write(`pharos: ${msg}\n`);
  process.exit(1);
}

/** `pharos tsdb ...`: offline tools on a storage directory, after promtool's tsdb commands. */
export function tsdbCommand(): Command {
  const tsdb = new Command('tsdb').description(
    'Run tsdb commands on a storage directory (the server must be stopped).',
  );

  const create = new Command('import')
    .alias('create-blocks-from')
    .description('Import samples from input and produce storage.');
  create
    .command('openmetrics')
    .description(
      'Import samples from an OpenMetrics text file (as promtool tsdb create-blocks-from openmetrics).',
    )
    .argument('<input file>', 'OpenMetrics file to read samples from.')
    .argument('[output directory]', 'Storage directory to write into.', 'data/')
    .addOption(
      new Option(
        '--storage.tsdb.shards <n>',
        'Shard count for a new directory (an existing one keeps its own).',
      ).default('2'),
    )
    .action(async (input: string, output: string, opts: Record<string, string>) => {
      const shards =
        recordedShardCount(output) ?? Number(opts['storage.tsdb.shards'] ?? opts.storageTsdbShards);
      if (!Number.isInteger(shards) || shards < 1) fail('--storage.tsdb.shards must be a positive integer');
      let db: ShardedTSDB;
      try {
        // Backfill accepts samples in any order, as promtool does: out-of-order data is merged.
        db = await ShardedTSDB.open(output, shards, { outOfOrderTimeWindowMs: Infinity });
      } catch (e) {
        fail((e as Error).message);
      }
      const started = Date.now();
      try {
        const r = await importOpenMetrics(input, db);
        await db.checkpoint();
        const secs = (Date.now() - started) / 1000;
        process.stdout.write(
          `imported ${r.samples} samples of ${r.series} series into ${output} in ${secs.toFixed(1)}s` +
            (r.series > 0
              ? ` (${new Date(r.minTime).toISOString()} to ${new Date(r.maxTime).toISOString()})`
              : '') +
            '\n',
        );
        if (r.rejected > 0)
          process.stdout.write(`rejected ${r.rejected} samples: first error: ${r.firstError}\n`);
      } catch (e) {
        await db.close();
        if (e instanceof ExpositionError) fail(`${input}:${e.line}: ${e.reason}`);
        fail(`${input}: ${(e as Error).message}`);
      }
      await db.close();
    });
  tsdb.addCommand(create);

  tsdb
    .command('analyze')
    .description('Analyze churn, label pair cardinality and compression efficiency.')
    .argument('[db path]', 'Storage directory.', 'data/')
    .option('--limit <n>', 'How many items to show in each list.', '20')
    .action(async (path: string, opts: { limit: string }) => {
      const shards = recordedShardCount(path);
      if (shards === undefined) fail(`no Pharos storage at ${path}`);
      let db: ShardedTSDB;
      try {
        db = await ShardedTSDB.open(path, shards);
      } catch (e) {
        fail((e as Error).message);
      }
      const a = await db.analyze();
      await db.close();
      process.stdout.write(formatAnalysis(a, `${path} (${shards} shards)`, Number(opts.limit)));
    });
  return tsdb;
}
