// Roles as processes of their own on a real Kafka broker: two ingesters split four partitions,
// a kill -9 during ingest loses nothing, a querier answers over both, SIGTERM exits cleanly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labelsFrom, labelsHash, shardOf } from '@pharos/model';
import { startFakeConsul } from '@pharos/discovery/testing';
import type { Proc } from './harness.js';
import { freePort, removeDir, startPharos, tempDir, waitFor, webhookReceiver } from './harness.js';
import {
  ALERTMANAGER_MAIN,
  batch,
  cleanups,
  dirs,
  DISCOVERY_MAIN,
  exporter,
  instant,
  kafkaBroker,
  range,
  RULER_MAIN,
  SCRAPER_MAIN,
  SERIES,
  startIngester,
  startQuerier,
  startRole,
  stored,
  useKafkaRoles,
  writer,
} from './kafka-roles.js';

useKafkaRoles();

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

      assert.equal(await replica.proc.stop('SIGTERM'), 0);
      assert.equal(await q.proc.stop('SIGTERM'), 0);

      assert.equal(await again.proc.stop('SIGTERM'), 0);
      assert.equal(await b.proc.stop('SIGTERM'), 0);
      assert.match(again.proc.stderr + again.proc.stdout, /shutting down/);
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
        `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
      ];
      // No alerting.alertmanagers: the ruler's alerts reach the alertmanager over the alert bus only.
      const alertBus = [
        `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
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
      await startRole(ALERTMANAGER_MAIN, amPort, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager')}`,
        ...alertBus,
      ]);
      const rulerGrpc = await freePort();
      await startRole(RULER_MAIN, await freePort(), [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--consul.address=${consul.address}`,
        ...kafka,
        `--kafka.alerts-topic=alerts.${topic}`,
        `--grpc.listen-address=127.0.0.1:${rulerGrpc}`,
      ]);
      // The querier gathers rules, alerts and Alertmanagers from the ruler over gRPC.
      const q = await startQuerier(`--consul.address=${consul.address}`, [
        `--ruler.addresses=127.0.0.1:${rulerGrpc}`,
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
        // Grafana's rule list and alert views, the UI's Rules and Alerts pages: the same answers
        // but for evaluation times.
        const untimed = (v: unknown): unknown =>
          Array.isArray(v)
            ? v.map(untimed)
            : v !== null && typeof v === 'object'
              ? Object.fromEntries(
                  Object.entries(v)
                    .filter(([k]) => !['lastEvaluation', 'evaluationTime', 'activeAt'].includes(k))
                    .map(([k, x]) => [k, untimed(x)]),
                )
              : v;
        for (const path of [
          '/api/v1/rules',
          '/api/v1/rules?type=alert&exclude_alerts=true',
          '/api/v1/alerts',
          '/api/v1/alertmanagers',
        ]) {
          const [d, e] = await Promise.all(
            [q.url, embedded.url].map(async (u) => untimed(await (await fetch(u + path)).json())),
          );
          assert.deepEqual(d, e, path);
        }
        // The TSDB status page over every ingester's partitions, as the embedded process counts
        // its shards; chunks and times depend on when each began.
        const tsdb = await Promise.all(
          [q.url, embedded.url].map(async (u) => {
            const body = (await (await fetch(`${u}/api/v1/status/tsdb?limit=50`)).json()) as {
              status: string;
              warnings?: string[];
              data: { headStats: Record<string, number> } & Record<string, unknown>;
            };
            const { numSeries, numLabelPairs } = body.data.headStats;
            return { ...body, data: { ...body.data, headStats: { numSeries, numLabelPairs } } };
          }),
        );
        assert.deepEqual(tsdb[0], tsdb[1], '/api/v1/status/tsdb');
        assert.ok(tsdb[0].data.headStats.numSeries > 60);
        const rules = (await (await fetch(`${q.url}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> };
        };
        assert.deepEqual(
          rules.data.groups[0].rules.map((r) => [r.name, r.health]),
          [
            ['job:demo_a:count', 'ok'],
            ['DemoSeriesPresent', 'ok'],
          ],
        );
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
});
