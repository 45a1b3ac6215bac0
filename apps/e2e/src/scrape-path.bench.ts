// `npm run bench -- scrape-path`: the embedded scrape path taken apart in one process, to say
// where a scrape's CPU goes: fetch and parse into a batch, publish to the write-ahead log (split
// and write), append to the TSDB shards, and the periodic head checkpoint.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parsePrometheusConfig } from '@pharos/config';
import { staticGroups } from '@pharos/discovery';
import type { SampleBatch } from '@pharos/model';
import { sampleBatchLogCodec } from '@pharos/proto';
import { populateTarget, scrapeDispatcher, ScrapeLoop, type ResolvedTarget } from '@pharos/scrape';
import { FileLog, SampleBus } from '@pharos/transport';
import { ShardedTSDB } from '@pharos/tsdb';
import { removeDir, tempDir } from './harness.js';

export interface ScrapePathBenchOptions {
  readonly series: number;
  readonly scrapes: number;
  readonly shards: number;
}

function body(n: number, v: number): Buffer {
  const out = ['# HELP bench_requests_total Requests handled.', '# TYPE bench_requests_total counter'];
  for (let i = 0; i < n; i++)
    out.push(
      `bench_requests_total{path="/api/${i % 100}",pod="pod-${Math.floor(i / 100)}",code="200"} ${v + i}`,
    );
  return Buffer.from(out.join('\n') + '\n');
}

/** CPU milliseconds (user + system, all threads) spent by `fn`. */
async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

export async function runScrapePathBench(opts: ScrapePathBenchOptions): Promise<void> {
  const bodies = [body(opts.series, 1), body(opts.series, 2)];
  let k = 0;
  const server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(bodies[k++ % bodies.length]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const cfg = parsePrometheusConfig(
    `scrape_configs:\n  - job_name: bench\n    scrape_interval: 5s\n    static_configs: [{targets: ['127.0.0.1:${port}']}]\n`,
  ).scrapeConfigs[0];
  const [g] = staticGroups(cfg);
  const r = populateTarget(g.targets[0], g, cfg);
  if (r.kind !== 'target') throw new Error('bench target dropped');
  const dir = tempDir('pharos-scrape-path-');
  const db = await ShardedTSDB.open(join(dir, 'data'), opts.shards, {});
  const log = FileLog.open(join(dir, 'wal'), opts.shards, sampleBatchLogCodec);
  const bus = new SampleBus(log);
  // The loop builds each partition's batch, as it does for the embedded system's bus.
  let last: ReadonlyArray<SampleBatch | undefined> = [];
  const sink = {
    partitions: opts.shards,
    publish: () => Promise.reject(new Error('the loop should publish by partition')),
    publishPartitioned: async (parts: ReadonlyArray<SampleBatch | undefined>) => void (last = parts),
  };
  const append = (parts: ReadonlyArray<SampleBatch | undefined>) =>
    Promise.all(parts.map((b, p) => (b ? db.shards[p].append(b) : undefined)));
  const dispatcher = scrapeDispatcher(cfg.http);
  const loop = new ScrapeLoop((r as { target: ResolvedTarget }).target, cfg, sink, dispatcher, (e) => {
    throw e;
  });
  const stages = { scrape: 0, publish: 0, append: 0, checkpoint: 0 };
  try {
    // The first scrape creates the series and fills the scrape cache; four more let the JIT
    // settle (the first appends after creation run at half speed). The rest is steady state.
    let t = Date.now();
    for (let i = 0; i < 5; i++) {
      await loop.scrapeOnce((t += 5000));
      await bus.publishPartitioned(last);
      await append(last);
    }
    await db.checkpoint();
    for (let i = 0; i < opts.scrapes; i++) {
      stages.scrape += await cpuMs(() => loop.scrapeOnce((t += 5000)));
      const parts = last;
      stages.publish += await cpuMs(() => bus.publishPartitioned(parts));
      // The ingester gets each partition's record for that partition's shard.
      stages.append += await cpuMs(() => append(parts));
    }
    // One checkpoint per minute of 5 s scrapes: charge each scrape a twelfth of one.
    stages.checkpoint = ((await cpuMs(() => db.checkpoint())) * opts.scrapes) / 12;
  } finally {
    await dispatcher.close();
    await log.close();
    await db.close();
    await new Promise<void>((res) => server.close(() => res()));
    removeDir(dir);
  }
  const per = (ms: number) => ms / opts.scrapes;
  const total = Object.values(stages).reduce((a, b) => a + b, 0);
  console.log(
    `# scrape path: ${opts.series} series, ${opts.scrapes} scrapes, ${opts.shards} shards; CPU ms per scrape`,
  );
  console.log('| stage | CPU ms per scrape | CPU s per 1M samples |');
  console.log('|---|---:|---:|');
  for (const [name, ms] of Object.entries({ ...stages, total }))
    console.log(`| ${name} | ${per(ms).toFixed(1)} | ${((per(ms) / opts.series) * 1000).toFixed(3)} |`);
}
