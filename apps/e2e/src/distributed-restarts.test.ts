// Each role of the distributed mode killed with -9 in turn on a real Kafka broker: it restarts,
// and nothing stored is lost. A file of its own: each file gets its own broker and time budget.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, tempDir, waitFor, type Proc } from './harness.js';
import {
  ALERTMANAGER_MAIN,
  dirs,
  DISCOVERY_MAIN,
  exporter,
  instant,
  kafkaBroker,
  RULER_MAIN,
  SCRAPER_MAIN,
  startIngester,
  startQuerier,
  startRole,
  useKafkaRoles,
} from './kafka-roles.js';

useKafkaRoles();

describe('distributed mode on Kafka, roles restarted', () => {
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
        `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
      ];
      const alertsTopic = `--kafka.alerts-topic=alerts.${topic}`;
      const ports = {
        discovery: await freePort(),
        discoveryGrpc: await freePort(),
        ruler: await freePort(),
        rulerGrpc: await freePort(),
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
        `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
        alertsTopic,
      ];
      let am = await startRole(ALERTMANAGER_MAIN, ports.am, amArgs);
      const rulerArgs = [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--ingester.addresses=${ingester.grpc}`,
        ...kafka,
        alertsTopic,
        '--rules.alert.resend-delay=1s',
        `--grpc.listen-address=127.0.0.1:${ports.rulerGrpc}`,
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
});
