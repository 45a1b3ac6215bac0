// `npm run bench -- cluster`: samples per second end to end through Kafka on this machine. The
// bench produces sample batches (one per simulated scrape, split by series hash as the scrapers
// split them) to a real broker; two ingester processes consume two partitions each and store
// them. Figures: the produce rate, the rate until every sample is handled and until every offset
// is committed (durable in LevelDB), the consumer lag seen on the ingesters' /metrics, and what
// the ingesters cost.
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { labelsFrom, SampleBatchBuilder, type Labels, type SampleBatch } from '@pharos/model';
import { decodeSampleBatch, encodeSampleBatch } from '@pharos/proto';
import { KafkaLog, SampleBus } from '@pharos/transport';
import { startTestBroker } from '@pharos/transport/testing';
import { freePort, PHAROS_NODE_FLAGS, Proc, removeDir, ROOT, tempDir, usage, waitFor } from './harness.js';

export interface ClusterBenchOptions {
  /** Series per batch (one scrape's worth). */
  readonly series: number;
  readonly batches: number;
  /** Batches in flight at once. */
  readonly concurrency: number;
}

const PARTITIONS = 4;

interface Ingester {
  readonly proc: Proc;
  readonly http: string;
}

async function startIngester(
  brokers: string,
  topic: string,
  partitions: string,
  dir: string,
): Promise<Ingester> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const proc = new Proc(
    spawn(
      process.execPath,
      [
        ...PHAROS_NODE_FLAGS,
        join(ROOT, 'dist/apps/ingester/main.js'),
        `--kafka.brokers=${brokers}`,
        `--kafka.topic=${topic}`,
        `--kafka.partitions=${PARTITIONS}`,
        `--ingester.partitions=${partitions}`,
        `--ingester.group=${topic}.ingesters`,
        `--storage.tsdb.path=${dir}`,
        `--web.listen-address=127.0.0.1:${httpPort}`,
        `--grpc.listen-address=127.0.0.1:${grpcPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const http = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    'an ingester to be ready',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`ingester exited: ${proc.stderr}`);
      return (await fetch(`${http}/-/ready`)).ok ? true : undefined;
    },
    60_000,
  );
  return { proc, http };
}

/** Sums a metric's series on an ingester's /metrics. */
async function metric(ing: Ingester, name: string): Promise<number> {
  if (ing.proc.child.exitCode !== null || ing.proc.child.signalCode !== null)
    throw new Error(
      `an ingester exited (${ing.proc.child.exitCode ?? ing.proc.child.signalCode}): ${ing.proc.stderr.slice(-1500)} ${ing.proc.stdout.slice(-3000)}`,
    );
  const text = await (await fetch(`${ing.http}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

function batchAt(series: readonly Labels[], t: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < series.length; i++) b.push(series[i], t, t + i);
  return b.build();
}

export async function runClusterBench(opts: ClusterBenchOptions): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'tools/bundle.mjs'), 'ingester'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('building the ingester failed');
  const total = opts.series * opts.batches;
  console.log(
    `# cluster bench: ${opts.batches} batches of ${opts.series} series (${total} samples) through Kafka ` +
      `(${PARTITIONS} partitions, snappy), ${opts.concurrency} in flight, into 2 ingesters`,
  );
  const broker = startTestBroker();
  const brokers = broker.brokers.join(',');
  const topic = `bench.${randomBytes(4).toString('hex')}`;
  const dirs = [tempDir('pharos-cluster-bench-a-'), tempDir('pharos-cluster-bench-b-')];
  const ingesters: Ingester[] = [];
  let log: KafkaLog<SampleBatch> | undefined;
  try {
    // The producer opens the topic first, so it exists with the right partition count.
    log = await KafkaLog.open<SampleBatch>({
      brokers: broker.brokers,
      topic,
      partitions: PARTITIONS,
      clientId: 'pharos-bench',
      codec: { encode: encodeSampleBatch, decode: decodeSampleBatch },
      key: (b) => b.hashes[0] ?? null,
      compression: 'snappy',
      // The bench queues sends on purpose; a slow acknowledgement is a figure, not a failure.
      sendTimeoutMs: 300_000,
    });
    ingesters.push(await startIngester(brokers, topic, '0,1', dirs[0]));
    ingesters.push(await startIngester(brokers, topic, '2,3', dirs[1]));
    const bus = new SampleBus(log);
    // Label sets built once, as a scraper keeps them between scrapes; batches built as sent.
    const series = Array.from({ length: opts.series }, (_, i) =>
      labelsFrom({ __name__: 'bench_total', job: 'bench', pod: `pod-${i % 100}`, i: String(i) }),
    );
    const t0 = Date.now() - opts.batches * 1000;
    const before = ingesters.map((i) => usage(i.proc.child.pid as number));
    const producerBefore = process.cpuUsage();
    let maxLag = 0;
    let sampling = true;
    const lagSampler = (async () => {
      while (sampling) {
        const lags = await Promise.all(
          ingesters.map((i) => metric(i, 'pharos_ingester_partition_lag_records')),
        );
        maxLag = Math.max(maxLag, lags[0] + lags[1]);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < opts.batches) await bus.publish(batchAt(series, t0 + next++ * 1000));
      }),
    );
    const produced = performance.now() - start;
    const producerCpu = process.cpuUsage(producerBefore);
    await waitFor(
      'the ingesters to handle every sample',
      async () => {
        const n = await Promise.all(
          ingesters.map((i) => metric(i, 'prometheus_tsdb_head_samples_appended_total')),
        );
        return n[0] + n[1] >= total ? true : undefined;
      },
      600_000,
      100,
    );
    const handled = performance.now() - start;
    sampling = false;
    await lagSampler;
    const after = ingesters.map((i) => usage(i.proc.child.pid as number));
    const ends = Array.from({ length: PARTITIONS }, (_, p) => log!.endOffset(p));
    await waitFor(
      'every partition committed',
      async () => {
        for (let p = 0; p < PARTITIONS; p++)
          if ((await log!.committed(`${topic}.ingesters`, p)) < ends[p]) return undefined;
        return true;
      },
      600_000,
      100,
    );
    const committed = performance.now() - start;
    const appended = (
      await Promise.all(ingesters.map((i) => metric(i, 'prometheus_tsdb_head_samples_appended_total')))
    ).reduce((a, b) => a + b, 0);
    const records = ends.reduce((a, b) => a + b, 0);
    const cpu = after.reduce((s, u, i) => s + u.cpu - before[i].cpu, 0);
    const rate = (ms: number) => Math.round(total / (ms / 1000)).toLocaleString('en-US');
    console.log('| figure | value |');
    console.log('|---|---:|');
    console.log(`| samples produced and acknowledged (acks=all) | ${total} in ${records} records |`);
    console.log(`| samples stored by the ingesters | ${appended} |`);
    console.log(`| produce rate | ${rate(produced)} samples/s |`);
    console.log(
      `| end to end, every sample handled | ${rate(handled)} samples/s (${(handled / 1000).toFixed(1)} s) |`,
    );
    console.log(
      `| every offset committed (commits follow the LevelDB checkpoint, 1 m by default) | ${rate(committed)} samples/s (${(committed / 1000).toFixed(1)} s) |`,
    );
    console.log(
      `| max consumer lag (both ingesters) | ${maxLag} records ≈ ${Math.round((maxLag * total) / records)} samples |`,
    );
    console.log(`| ingester CPU s per 1M samples | ${(cpu / (total / 1e6)).toFixed(3)} |`);
    console.log(
      `| producer (this process: building, splitting, encoding, snappy, kafkajs) CPU s per 1M samples | ${((producerCpu.user + producerCpu.system) / 1e6 / (total / 1e6)).toFixed(3)} |`,
    );
    console.log(`| ingester RSS MiB | ${after.map((u) => u.rssMiB.toFixed(0)).join(' + ')} |`);
    if (appended !== total) throw new Error(`the ingesters stored ${appended} samples of ${total}`);
  } finally {
    await Promise.all(ingesters.map((i) => i.proc.stop()));
    await log?.close();
    broker.close();
    dirs.forEach(removeDir);
  }
}
