// A real Prometheus remote-writes to a scraper through a broker outage: 503s, retries, and in
// the end every sample reaches the querier.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startPrometheus, tempDir, waitFor } from './harness.js';
import {
  DISCOVERY_MAIN,
  dirs,
  exporter,
  instant,
  kafkaBroker,
  procs,
  SCRAPER_MAIN,
  startIngester,
  startQuerier,
  startRole,
  useKafkaRoles,
} from './kafka-roles.js';

useKafkaRoles();

describe('distributed mode through a broker outage', () => {
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
        `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
        '--web.enable-remote-write-receiver',
        `--ingester.addresses=${ingester.grpc}`,
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
      kafkaBroker().stop();
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
      kafkaBroker().restart();
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
