// Roles as processes of their own on a real Kafka broker: two ingesters split four partitions,
// a kill -9 during ingest loses nothing, a querier answers over both, SIGTERM exits cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngesterGrpcClient } from '@pharos/ingest';
import {
  LabelMatcher,
  labelsFrom,
  labelsHash,
  SampleBatchBuilder,
  shardOf,
  type SampleBatch,
} from '@pharos/model';
import { decodeSampleBatch, encodeSampleBatch } from '@pharos/proto';
import { KafkaLog, SampleBus } from '@pharos/transport';
import { startTestBroker, type TestBroker } from '@pharos/transport/testing';
import { startFakeConsul } from '@pharos/discovery/testing';
import {
  freePort,
  webhookReceiver,
  PHAROS_NODE_FLAGS,
  Proc,
  removeDir,
  ROOT,
  startPharos,
  startPrometheus,
  startRole as startRoleProcess,
  tempDir,
  waitFor,
} from './harness.js';

const INGESTER_MAIN = join(ROOT, 'dist/apps/ingester/main.js');
const QUERIER_MAIN = join(ROOT, 'dist/apps/querier/main.js');
const DISCOVERY_MAIN = join(ROOT, 'dist/apps/discovery/main.js');
const SCRAPER_MAIN = join(ROOT, 'dist/apps/scraper/main.js');
const RULER_MAIN = join(ROOT, 'dist/apps/ruler/main.js');
const ALERTMANAGER_MAIN = join(ROOT, 'dist/apps/alertmanager/main.js');
const SERIES = 40;

interface Ingester {
  proc: Proc;
  http: string;
  grpc: string;
}

let broker!: TestBroker;
const dirs: string[] = [];
const procs: Proc[] = [];
const cleanups: Array<() => Promise<void>> = [];
before(() => {
  for (const main of [
    INGESTER_MAIN,
    QUERIER_MAIN,
    DISCOVERY_MAIN,
    SCRAPER_MAIN,
    RULER_MAIN,
    ALERTMANAGER_MAIN,
  ])
    if (!existsSync(main)) throw new Error(`${main} is missing: build it (nx run-many -t build)`);
  broker = startTestBroker();
});
after(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await Promise.all(cleanups.map((c) => c()));
  broker?.close();
  dirs.forEach(removeDir);
});

async function startIngester(
  topic: string,
  dir: string,
  partitions: string,
  ports?: number[],
  extra: readonly string[] = [],
): Promise<Ingester> {
  const [httpPort, grpcPort] = ports ?? [await freePort(), await freePort()];
  const proc = new Proc(
    spawn(
      process.execPath,
      [
        ...PHAROS_NODE_FLAGS,
        INGESTER_MAIN,
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
        `--ingester.partitions=${partitions}`,
        `--ingester.group=${topic}.ingesters`,
        `--storage.tsdb.path=${dir}`,
        '--storage.tsdb.checkpoint-interval=500ms',
        ...extra,
        `--web.listen-address=127.0.0.1:${httpPort}`,
        `--grpc.listen-address=127.0.0.1:${grpcPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  procs.push(proc);
  const http = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    'the ingester to be ready',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`ingester exited: ${proc.stderr}`);
      return (await fetch(`${http}/-/ready`)).ok ? true : undefined;
    },
    60_000,
  );
  return { proc, http, grpc: `127.0.0.1:${grpcPort}` };
}

function batch(t: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < SERIES; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), t * 1000, t);
  return b.build();
}

/** Timestamps (in seconds) of every series an ingester holds, by the series' `i` label. */
async function stored(ing: Ingester): Promise<Map<string, number[]>> {
  const client = new IngesterGrpcClient(ing.grpc);
  try {
    const out = new Map<string, number[]>();
    for (const s of await client.select([new LabelMatcher('=', '__name__', 'm')], 0, 1e12)) {
      out.set(
        s.labels.find((l) => l.name === 'i')?.value ?? '',
        [...s.timestamps].map((t) => t / 1000),
      );
    }
    return out;
  } finally {
    client.close();
  }
}

async function writer(topic: string) {
  const log = await KafkaLog.open<SampleBatch>({
    brokers: broker.brokers,
    topic,
    partitions: 4,
    clientId: 'e2e-writer',
    codec: { encode: encodeSampleBatch, decode: decodeSampleBatch },
    compression: 'snappy',
  });
  return { bus: new SampleBus(log), close: () => log.close() };
}

/** Starts a built role with its arguments and waits for its /-/ready on `httpPort`. */
async function startRole(main: string, httpPort: number, args: readonly string[]): Promise<Proc> {
  const { proc } = await startRoleProcess(main, args, { port: httpPort });
  procs.push(proc);
  return proc;
}

/** A test exporter: `n` fixed series under one metric name. */
async function exporter(name: string, n: number): Promise<{ address: string; close: () => void }> {
  const { createServer } = await import('node:http');
  const body = Array.from({ length: n }, (_, i) => `${name}{k="${i}"} ${i}`).join('\n') + '\n';
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { address: `127.0.0.1:${port}`, close: () => server.close() };
}

/** A querier over these ingesters, or over what Consul announces when `ingesters` is a flag. */
async function startQuerier(
  ingesters: readonly Ingester[] | string,
  extra: readonly string[] = [],
): Promise<{ proc: Proc; url: string }> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const proc = new Proc(
    spawn(
      process.execPath,
      [
        QUERIER_MAIN,
        typeof ingesters === 'string'
          ? ingesters
          : `--ingester.addresses=${ingesters.map((i) => i.grpc).join(',')}`,
        `--web.listen-address=127.0.0.1:${httpPort}`,
        `--grpc.listen-address=127.0.0.1:${grpcPort}`,
        '--config.file=/nonexistent/prometheus.yml',
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  procs.push(proc);
  const url = `http://127.0.0.1:${httpPort}`;
  await waitFor('the querier to be ready', async () => {
    if (proc.child.exitCode !== null) throw new Error(`querier exited: ${proc.stderr}`);
    return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
  });
  return { proc, url };
}

async function instant(
  url: string,
  query: string,
  time: number,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${time}`);
  const body = (await r.json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

describe('distributed mode on Kafka', () => {
  it('two ingesters split four partitions; kill -9 and a restart leave no gap; a querier answers over them and a replica group once', async () => {
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const w = await writer(topic);
    try {
      const dirA = tempDir('pharos-ingester-a-');
      const dirB = tempDir('pharos-ingester-b-');
      dirs.push(dirA, dirB);
      const a = await startIngester(topic, dirA, '0,1');
      const b = await startIngester(topic, dirB, '2,3');
      for (const t of range(1, 20)) await w.bus.publish(batch(t));
      const all = await waitFor('both ingesters to store 20 samples per series', async () => {
        const [sa, sb] = await Promise.all([stored(a), stored(b)]);
        const merged = new Map([...sa, ...sb]);
        return merged.size === SERIES && [...merged.values()].every((ts) => ts.length === 20)
          ? { sa, sb }
          : undefined;
      });
      // Each holds exactly the series whose hash falls in its partitions.
      for (const [i] of all.sa) assert.ok(shardOf(labelsHash(labelsFrom({ __name__: 'm', i })), 4) < 2);
      for (const [i] of all.sb) assert.ok(shardOf(labelsHash(labelsFrom({ __name__: 'm', i })), 4) >= 2);
      assert.ok(all.sa.size > 0 && all.sb.size > 0);

      const metrics = await (await fetch(`${a.http}/metrics`)).text();
      assert.match(metrics, /pharos_ingester_partition_lag_records\{partition="1"\} 0/);

      // kill -9 in the middle of a stream of writes, then restart on the same storage and ports.
      const ports = [Number(new URL(a.http).port), Number(a.grpc.split(':')[1])];
      const writing = (async () => {
        for (const t of range(21, 60)) await w.bus.publish(batch(t));
      })();
      await new Promise((r) => setTimeout(r, 300));
      a.proc.child.kill('SIGKILL');
      await a.proc.exited;
      await writing;
      const again = await startIngester(topic, dirA, '0,1', ports);
      await waitFor(
        'the restarted ingester to catch up',
        async () => {
          const s = await stored(again);
          return s.size === all.sa.size && [...s.values()].every((ts) => ts.length === 60) ? true : undefined;
        },
        60_000,
      );
      for (const [i, ts] of await stored(again)) assert.deepEqual(ts, range(1, 60), `series ${i} has a gap`);

      // A replica set: a second group of one ingester consuming all four partitions. The
      // querier asks all three and must count every series and sample once.
      const replicaDir = tempDir('pharos-ingester-replica-');
      dirs.push(replicaDir);
      const replica = await startIngester(topic, replicaDir, '0,1,2,3', undefined, [
        `--ingester.group=${topic}.replicas`,
      ]);
      await waitFor(
        'the replica to catch up',
        async () => {
          const s = await stored(replica);
          return s.size === SERIES && [...s.values()].every((ts) => ts.length === 60) ? true : undefined;
        },
        60_000,
      );
      const q = await startQuerier([again, b, replica]);
      assert.deepEqual((await instant(q.url, 'count(m)', 60))[0].value, [60, String(SERIES)]);
      assert.deepEqual((await instant(q.url, 'sum(m)', 60))[0].value, [60, String(SERIES * 60)]);
      assert.deepEqual((await instant(q.url, 'count(count_over_time(m[1m]) == 60)', 60))[0].value, [
        60,
        String(SERIES),
      ]);
      const sel = await instant(q.url, 'm{i="7"}', 30);
      assert.deepEqual(sel, [{ metric: { __name__: 'm', i: '7' }, value: [30, '30'] }]);

      // The admin API: off unless --web.enable-admin-api, as upstream. With it, every ingester,
      // the replica too, deletes its copy, and a kill -9 afterwards replays none of it back: the
      // newest samples' offsets were not committed yet when they were deleted.
      const deleteSeven = (url: string) =>
        fetch(`${url}/api/v1/admin/tsdb/delete_series?match[]=${encodeURIComponent('m{i="7"}')}&start=15`, {
          method: 'POST',
        });
      const refused = await deleteSeven(q.url);
      assert.equal(refused.status, 503);
      assert.match(await refused.text(), /admin APIs disabled/);
      assert.equal(await q.proc.stop('SIGTERM'), 0);
      const sevenOnA = shardOf(labelsHash(labelsFrom({ __name__: 'm', i: '7' })), 4) < 2;
      // The holder of series 7 and the replica, restarted so that only the delete commits offsets.
      const slow = ['--storage.tsdb.checkpoint-interval=10m'];
      const roles = [
        {
          ing: sevenOnA ? again : b,
          dir: sevenOnA ? dirA : dirB,
          parts: sevenOnA ? '0,1' : '2,3',
          extra: slow,
        },
        {
          ing: replica,
          dir: replicaDir,
          parts: '0,1,2,3',
          extra: [`--ingester.group=${topic}.replicas`, ...slow],
        },
      ];
      const restart = async (r: (typeof roles)[number], signal: 'SIGTERM' | 'SIGKILL') => {
        const ports = [Number(new URL(r.ing.http).port), Number(r.ing.grpc.split(':')[1])];
        r.ing.proc.child.kill(signal);
        await r.ing.proc.exited;
        r.ing = await startIngester(topic, r.dir, r.parts, ports, r.extra);
      };
      const caughtUp = (r: (typeof roles)[number], upTo: number) =>
        waitFor(
          'the ingester to catch up',
          async () => {
            const s = await stored(r.ing);
            const others = [...s].filter(([i]) => i !== '7');
            return others.length > 0 && others.every(([, ts]) => ts.at(-1) === upTo) ? s : undefined;
          },
          60_000,
        );
      for (const r of roles) await restart(r, 'SIGTERM');
      for (const t of range(61, 70)) await w.bus.publish(batch(t));
      for (const r of roles) await caughtUp(r, 70);
      const [aNow, bNow] = sevenOnA ? [roles[0].ing, b] : [again, roles[0].ing];
      const admin = await startQuerier([aNow, bNow, roles[1].ing], ['--web.enable-admin-api']);
      assert.equal((await deleteSeven(admin.url)).status, 204);
      assert.deepEqual((await instant(admin.url, 'count_over_time(m{i="7"}[5m])', 70))[0].value, [70, '14']);
      const snapshot = await fetch(`${admin.url}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
      const { data } = (await snapshot.json()) as { data: { name: string } };
      for (const d of [dirA, dirB, replicaDir]) assert.ok(existsSync(join(d, 'snapshots', data.name)), d);
      assert.equal(await admin.proc.stop('SIGTERM'), 0);
      for (const r of roles) {
        await restart(r, 'SIGKILL');
        assert.deepEqual((await caughtUp(r, 70)).get('7'), range(1, 14));
      }
      const [aEnd, bEnd] = sevenOnA ? [roles[0].ing, b] : [again, roles[0].ing];
      for (const ing of [roles[1].ing, aEnd, bEnd]) assert.equal(await ing.proc.stop('SIGTERM'), 0);
      assert.match(aEnd.proc.stderr + aEnd.proc.stdout, /shutting down/);
    } finally {
      await w.close();
    }
  });

  it('discovery, two scrapers, two ingesters, a querier, a ruler and an alertmanager answer as the embedded mode does', async () => {
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const exporters = await Promise.all([
      exporter('demo_a', 30),
      exporter('demo_b', 20),
      exporter('demo_c', 10),
    ]);
    const dir = tempDir('pharos-distributed-');
    dirs.push(dir);
    const amPort = await freePort();
    const hook = await webhookReceiver<{
      status: string;
      alerts: Array<{ labels: Record<string, string> }>;
    }>();
    cleanups.push(async () => void hook.server.close());
    const config = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [${join(dir, 'rules.yml')}]
scrape_configs:
  - job_name: demo
    static_configs: [{targets: [${exporters.map((e) => `'${e.address}'`).join(', ')}]}]
`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    writeFileSync(
      join(dir, 'rules.yml'),
      `groups:
  - name: demo
    rules:
      - record: job:demo_a:count
        expr: count by (job) (demo_a)
      - alert: DemoSeriesPresent
        expr: job:demo_a:count > 0
        labels: {severity: info}
`,
    );
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s}
receivers: [{name: hook, webhook_configs: [{url: 'http://127.0.0.1:${hook.port}/'}]}]
`,
    );
    try {
      const kafka = [
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
      ];
      // No alerting.alertmanagers: the ruler's alerts reach the alertmanager over the alert bus only.
      const alertBus = [
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.alerts-topic=alerts.${topic}`,
      ];
      const discoveryGrpc = await freePort();
      await startRole(DISCOVERY_MAIN, await freePort(), [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--grpc.listen-address=127.0.0.1:${discoveryGrpc}`,
      ]);
      // Membership through Consul (a stand-in speaking its API): ingesters announce their
      // partitions, the querier finds them there.
      const consul = await startFakeConsul();
      cleanups.push(() => consul.close());
      const announce = [`--consul.address=${consul.address}`, '--ingester.advertise-host=127.0.0.1'];
      await startIngester(topic, join(dir, 'ingester-a'), '0,1', undefined, announce);
      await startIngester(topic, join(dir, 'ingester-b'), '2,3', undefined, announce);
      // An ingester is ready (serving) a moment before its announcement reaches Consul.
      const announced = () =>
        (consul.consul.services.get('pharos-ingester') ?? []).map((i) => i.meta?.partitions).sort();
      await waitFor('both ingesters in Consul', async () => (announced().length === 2 ? true : undefined));
      assert.deepEqual(announced(), ['0,1', '2,3']);
      const scrapers: Array<{ proc: Proc; url: string }> = [];
      for (const id of ['scraper-1', 'scraper-2']) {
        const port = await freePort();
        const proc = await startRole(SCRAPER_MAIN, port, [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--discovery.address=127.0.0.1:${discoveryGrpc}`,
          `--scraper.id=${id}`,
          ...kafka,
        ]);
        scrapers.push({ proc, url: `http://127.0.0.1:${port}` });
      }
      const q = await startQuerier(`--consul.address=${consul.address}`);
      await startRole(ALERTMANAGER_MAIN, amPort, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager')}`,
        ...alertBus,
      ]);
      await startRole(RULER_MAIN, await freePort(), [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--consul.address=${consul.address}`,
        ...kafka,
        `--kafka.alerts-topic=alerts.${topic}`,
      ]);
      const embedded = await startPharos(() => config);
      try {
        const queries = [
          'count(up == 1)',
          'sum(demo_a) + sum(demo_b) + sum(demo_c)',
          'count by (__name__) ({__name__=~"demo_.*"})',
          'sort(sum by (instance) (scrape_samples_scraped))',
          'job:demo_a:count',
          'ALERTS',
        ];
        const answer = async (url: string, query: string) => {
          const r = await instant(url, query, Date.now() / 1000);
          return r
            .map((x) => ({ metric: x.metric, value: x.value[1] }))
            .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        };
        // Both have scraped every target at least twice once these agree.
        await waitFor(
          'the distributed and embedded modes to see every target',
          async () => {
            const d = await answer(q.url, 'count(count_over_time(up[1m]) >= 2)');
            const e = await answer(embedded.url, 'count(count_over_time(up[1m]) >= 2)');
            // …and both rulers have recorded the count and fire the alert on it.
            const rules = await Promise.all(
              [q.url, embedded.url].map(
                async (u) => (await answer(u, 'job:demo_a:count + on() count(ALERTS)'))[0]?.value,
              ),
            );
            return d[0]?.value === '3' && e[0]?.value === '3' && rules.every((v) => v === '31')
              ? true
              : undefined;
          },
          60_000,
        );
        for (const query of queries) {
          assert.deepEqual(await answer(q.url, query), await answer(embedded.url, query), query);
        }
        // The ruler's alert reached the alertmanager role over the alert bus; it notified the webhook.
        const firing = await waitFor('the ruler’s alert at the webhook', async () =>
          hook.received.find((m) => m.status === 'firing'),
        );
        assert.equal(firing.alerts[0].labels.alertname, 'DemoSeriesPresent');
        assert.equal(firing.alerts[0].labels.job, 'demo');
        const qm = await (await fetch(`${q.url}/metrics`)).text();
        assert.match(
          qm,
          /^pharos_querier_partitions_without_ingester 0$/m,
          'every partition has an ingester',
        );
        const demo = await answer(q.url, 'count by (__name__) ({__name__=~"demo_.*"})');
        assert.deepEqual(
          demo.map((x) => [x.metric.__name__, x.value]),
          [
            ['demo_a', '30'],
            ['demo_b', '20'],
            ['demo_c', '10'],
          ],
        );

        // A scraper killed: the discovery sees its stream end and hands its targets to the other.
        const held = async (url: string) => {
          const m = /^prometheus_target_scrape_pool_targets\{scrape_job="demo"\} (\d+)$/m.exec(
            await (await fetch(`${url}/metrics`)).text(),
          );
          return Number(m?.[1] ?? 0);
        };
        const counts = await Promise.all(scrapers.map((s) => held(s.url)));
        assert.equal(counts[0] + counts[1], 3, `each target with one scraper: ${counts.join(' + ')}`);
        const victim = counts[0] >= counts[1] ? 0 : 1;
        const survivor = scrapers[1 - victim];
        assert.ok(counts[victim] > 0);
        scrapers[victim].proc.child.kill('SIGKILL');
        await scrapers[victim].proc.exited;
        const killedAt = Date.now();
        await waitFor('the surviving scraper to take every target', async () =>
          (await held(survivor.url)) === 3 ? true : undefined,
        );
        const movedInMs = Date.now() - killedAt;
        // Every target scraped again after the kill, by the survivor.
        await waitFor(
          'fresh samples from every target',
          async () => {
            const r = await instant(q.url, 'timestamp(up) * 1000', Date.now() / 1000);
            return r.length === 3 && r.every((x) => Number(x.value[1]) > killedAt + 1000) ? true : undefined;
          },
          20_000,
        );
        // Within one refresh: the move waits for no timeout (the scrape interval is 1 s).
        assert.ok(movedInMs < 5000, `targets moved in ${movedInMs} ms`);
      } finally {
        await embedded.proc.stop();
        removeDir(embedded.dir);
      }
    } finally {
      exporters.forEach((e) => e.close());
    }
  });

  it('kill -9 of the discovery, querier, ruler and alertmanager in turn: each restarts and nothing stored is lost', async () => {
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const exporters = await Promise.all([exporter('fault_a', 10), exporter('fault_b', 5)]);
    const dir = tempDir('pharos-faults-');
    dirs.push(dir);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [${join(dir, 'rules.yml')}]
scrape_configs:
  - job_name: fault
    static_configs: [{targets: [${exporters.map((e) => `'${e.address}'`).join(', ')}]}]
`,
    );
    writeFileSync(
      join(dir, 'rules.yml'),
      `groups:
  - name: fault
    rules:
      - record: job:fault_a:count
        expr: count by (job) (fault_a)
      - alert: FaultSeriesPresent
        expr: job:fault_a:count > 0
`,
    );
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      'route: {receiver: none, group_wait: 1s, group_interval: 1s}\nreceivers: [{name: none}]\n',
    );
    try {
      const kafka = [
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
      ];
      const alertsTopic = `--kafka.alerts-topic=alerts.${topic}`;
      const ports = {
        discovery: await freePort(),
        discoveryGrpc: await freePort(),
        ruler: await freePort(),
        am: await freePort(),
      };
      const discoveryArgs = [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--grpc.listen-address=127.0.0.1:${ports.discoveryGrpc}`,
      ];
      let discovery = await startRole(DISCOVERY_MAIN, ports.discovery, discoveryArgs);
      const ingester = await startIngester(topic, join(dir, 'ingester'), '0,1,2,3');
      await startRole(SCRAPER_MAIN, await freePort(), [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--discovery.address=127.0.0.1:${ports.discoveryGrpc}`,
        ...kafka,
      ]);
      let q = await startQuerier([ingester]);
      const amArgs = [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am')}`,
        `--kafka.brokers=${broker.brokers.join(',')}`,
        alertsTopic,
      ];
      let am = await startRole(ALERTMANAGER_MAIN, ports.am, amArgs);
      const rulerArgs = [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--ingester.addresses=${ingester.grpc}`,
        ...kafka,
        alertsTopic,
        '--rules.alert.resend-delay=1s',
      ];
      let ruler = await startRole(RULER_MAIN, ports.ruler, rulerArgs);
      const amAlerts = async () =>
        (await (await fetch(`http://127.0.0.1:${ports.am}/api/v2/alerts`)).json()) as Array<{
          labels: Record<string, string>;
        }>;
      await waitFor(
        'targets scraped, the rule recorded and its alert at the alertmanager',
        async () => {
          const up = await instant(q.url, 'count(up == 1)', Date.now() / 1000);
          const rec = await instant(q.url, 'job:fault_a:count', Date.now() / 1000);
          const alerts = await amAlerts();
          return up[0]?.value[1] === '2' &&
            rec[0]?.value[1] === '10' &&
            alerts.some((a) => a.labels.alertname === 'FaultSeriesPresent')
            ? true
            : undefined;
        },
        60_000,
      );
      const fresh = async (query: string, after: number, n: number) =>
        waitFor(
          `${query} newer than the kill`,
          async () => {
            const r = await instant(q.url, `timestamp(${query}) * 1000`, Date.now() / 1000);
            return r.length === n && r.every((x) => Number(x.value[1]) > after) ? true : undefined;
          },
          30_000,
        );
      const samples = async () =>
        Number((await instant(q.url, 'sum(count_over_time(up[1h]))', Date.now() / 1000))[0]?.value[1] ?? 0);
      const kill = async (p: Proc) => {
        p.child.kill('SIGKILL');
        await p.exited;
        return Date.now();
      };

      // Discovery down: the scraper keeps the targets it was given and scrapes on; restarted, it
      // hands them out again.
      let at = await kill(discovery);
      await fresh('up', at + 1000, 2);
      discovery = await startRole(DISCOVERY_MAIN, ports.discovery, discoveryArgs);
      at = Date.now();
      await fresh('up', at + 1000, 2);

      // Querier down: stateless; its replacement answers with at least every sample seen before.
      const before = await samples();
      await kill(q.proc);
      q = await startQuerier([ingester]);
      assert.ok((await samples()) >= before, 'the new querier sees every sample the old one did');

      // Ruler down: restarted, it records again and its alert is sent again.
      at = await kill(ruler);
      ruler = await startRole(RULER_MAIN, ports.ruler, rulerArgs);
      await fresh('job:fault_a:count', at, 1);

      // Alertmanager down: its silences come back from its storage, and the alert from the bus.
      const silence = await fetch(`http://127.0.0.1:${ports.am}/api/v2/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          matchers: [{ name: 'alertname', value: 'FaultSeriesPresent', isRegex: false, isEqual: true }],
          startsAt: new Date().toISOString(),
          endsAt: new Date(Date.now() + 3600_000).toISOString(),
          createdBy: 'faults',
          comment: 'kept across kill -9',
        }),
      });
      assert.equal(silence.status, 200);
      const { silenceID } = (await silence.json()) as { silenceID: string };
      // Silences are written to the storage path 50 ms after a change (upstream: every 15 min).
      await new Promise((r) => setTimeout(r, 500));
      await kill(am);
      am = await startRole(ALERTMANAGER_MAIN, ports.am, amArgs);
      const kept = (await (
        await fetch(`http://127.0.0.1:${ports.am}/api/v2/silence/${silenceID}`)
      ).json()) as { status: { state: string } };
      assert.equal(kept.status.state, 'active');
      await waitFor('the alert back at the restarted alertmanager, silenced', async () => {
        const a = (await amAlerts()) as Array<{
          labels: Record<string, string>;
          status: { silencedBy: string[] };
        }>;
        return a.some(
          (x) => x.labels.alertname === 'FaultSeriesPresent' && x.status.silencedBy.includes(silenceID),
        )
          ? true
          : undefined;
      });
      assert.ok((await samples()) > before, 'scraping went on through all of it');
    } finally {
      exporters.forEach((e) => e.close());
    }
  });

  // Last: it stops the shared broker for 20 s.
  it('a real Prometheus remote-writing through a 20 s broker outage: 503s, then everything arrives', async () => {
    if (process.env.PHAROS_TEST_KAFKA) return; // a broker we did not start is not ours to stop
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const target = await exporter('outage_demo', 25);
    const dir = tempDir('pharos-outage-');
    dirs.push(dir);
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'empty.yml'), 'scrape_configs: []\n');
      const discoveryGrpc = await freePort();
      await startRole(DISCOVERY_MAIN, await freePort(), [
        `--config.file=${join(dir, 'empty.yml')}`,
        `--grpc.listen-address=127.0.0.1:${discoveryGrpc}`,
      ]);
      const ingester = await startIngester(topic, join(dir, 'ingester'), '0,1,2,3');
      const gatewayPort = await freePort();
      const gateway = await startRole(SCRAPER_MAIN, gatewayPort, [
        `--config.file=${join(dir, 'empty.yml')}`,
        `--discovery.address=127.0.0.1:${discoveryGrpc}`,
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
        '--web.enable-remote-write-receiver',
      ]);
      const q = await startQuerier([ingester]);

      const prom = await startPrometheus(
        `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: outage
    static_configs: [{targets: ['${target.address}']}]
remote_write:
  - url: http://127.0.0.1:${gatewayPort}/api/v1/write
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 2s}
`,
        { dir },
      );
      procs.push(prom.proc);
      const promUrl = prom.url;
      const start = Date.now() / 1000;
      await new Promise((r) => setTimeout(r, 6000));
      broker.stop();
      // An ingester started while the broker is away waits for it, unready, instead of exiting.
      const lateDir = tempDir('pharos-ingester-late-');
      dirs.push(lateDir);
      const latePorts = [await freePort(), await freePort()];
      const lateStarted = startIngester(topic, lateDir, '0,1,2,3', latePorts, [
        `--ingester.group=${topic}.late`,
      ]);
      lateStarted.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 10_000));
      const lateReady = await fetch(`http://127.0.0.1:${latePorts[0]}/-/ready`);
      assert.equal(lateReady.status, 503, 'an ingester without its broker is not ready');
      await new Promise((r) => setTimeout(r, 10_000));
      broker.restart();
      await new Promise((r) => setTimeout(r, 4000));
      const end = Date.now() / 1000;
      // Everything Prometheus scraped from start to end reaches Pharos once the broker is back:
      // the same sample count per series on both sides.
      const window = Math.ceil(end - start);
      const query = `sort(count_over_time(outage_demo[${window}s]))`;
      const counts = async (url: string) =>
        (await instant(url, query, end)).map((r) => `${r.metric.k}=${r.value[1]}`).sort();
      const expected = await counts(promUrl);
      assert.equal(expected.length, 25);
      await waitFor(
        'the samples written during the outage to arrive',
        async () => (JSON.stringify(await counts(q.url)) === JSON.stringify(expected) ? true : undefined),
        90_000,
        1000,
      );
      // Prometheus' own counters (it does not scrape itself here): it was refused and retried.
      const promMetrics = await (await fetch(`${promUrl}/metrics`)).text();
      const retried = /^prometheus_remote_storage_samples_retried_total\{[^}]*\} (\d+)/m.exec(promMetrics);
      assert.ok(Number(retried?.[1] ?? 0) > 0, 'Prometheus saw failures (503) and retried');
      const gatewayMetrics = await (await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).text();
      assert.match(
        gatewayMetrics,
        /pharos_remote_write_rejected_requests_total\{reason="unavailable"\} [1-9]/,
      );
      assert.match(gatewayMetrics, /pharos_remote_write_samples_total \d+/);
      assert.equal(await gateway.stop('SIGTERM'), 0);
      const late = await lateStarted;
      // Whether kafkajs' own retries or ours outlast the outage depends on timing; either way the
      // ingester kept trying instead of exiting.
      assert.match(late.proc.stderr + late.proc.stdout, /ECONNREFUSED/);
      assert.equal(late.proc.child.exitCode, null);
    } finally {
      target.close();
    }
  });
});
