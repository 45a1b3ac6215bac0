// The ruler against an Alertmanager: a scraped target goes down, `up == 0` fires after its `for`,
// the Alertmanager receives it and notifies a local webhook; the target comes back and the
// resolved notification follows. Run twice: with Debian's prometheus-alertmanager reached through
// its API v2, and with Pharos' embedded Alertmanager reached in-process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  listen,
  webhookReceiver,
  Proc,
  removeDir,
  requireBinary,
  startPharos,
  tempDir,
  waitFor,
  webhookAlertmanagerConfig,
  type Pharos,
} from './harness.js';

interface WebhookMessage {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

for (const mode of ['real', 'embedded'] as const)
  describe(`alerting through the ${mode} Alertmanager`, { timeout: 120_000 }, () => {
    const dir = tempDir('pharos-alerting-');
    let received: WebhookMessage[] = [];
    let am: Proc;
    let pharos: Pharos;
    let targetPort: number;
    let amPort: number;
    let target: Server | undefined;
    let webhook: Server;

    const startTarget = async () => {
      target = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end('# TYPE demo_value gauge\ndemo_value 1\n');
      });
      await listen(target, targetPort);
    };
    const stopTarget = () =>
      new Promise<void>((res) => {
        target?.closeAllConnections();
        target?.close(() => res());
      });

    before(async () => {
      const amBin = mode === 'real' ? requireBinary('prometheus-alertmanager') : '';
      [targetPort, amPort] = [await freePort(), await freePort()];
      const receiver = await webhookReceiver<WebhookMessage>();
      webhook = receiver.server;
      received = receiver.received;
      const hookPort = receiver.port;
      writeFileSync(join(dir, 'alertmanager.yml'), webhookAlertmanagerConfig(hookPort, true));
      if (mode === 'real') {
        am = new Proc(
          spawn(
            amBin,
            [
              `--config.file=${join(dir, 'alertmanager.yml')}`,
              `--storage.path=${join(dir, 'am')}`,
              `--web.listen-address=127.0.0.1:${amPort}`,
              '--cluster.listen-address=',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          ),
        );
        await waitFor('Alertmanager', async () =>
          (await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : undefined,
        );
      }
      await startTarget();
      writeFileSync(
        join(dir, 'rules.yml'),
        `groups:
  - name: availability
    rules:
      - alert: TargetDown
        expr: up{job="demo"} == 0
        for: 3s
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} is down"
`,
      );
      pharos = await startPharos(
        () => `global:
  scrape_interval: 1s
  scrape_timeout: 500ms
  evaluation_interval: 1s
  external_labels: {cluster: e2e}
rule_files: [${join(dir, 'rules.yml')}]
${
  mode === 'real'
    ? `alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${amPort}']}]
`
    : ''
}scrape_configs:
  - job_name: demo
    static_configs: [{targets: ['127.0.0.1:${targetPort}']}]
`,
        {
          dir,
          args: [
            '--rules.alert.resend-delay=1s',
            ...(mode === 'embedded'
              ? [
                  `--alertmanager.config.file=${join(dir, 'alertmanager.yml')}`,
                  `--alertmanager.listen-address=127.0.0.1:${amPort}`,
                ]
              : []),
          ],
        },
      );
    });

    after(async () => {
      await pharos?.proc.stop();
      await am?.stop();
      await stopTarget();
      webhook?.close();
      removeDir(dir);
    });

    it('fires after for, reaches Alertmanager, and resolves when the target returns', async () => {
      await waitFor('the target to be scraped up', async () => {
        const r = await fetch(`${pharos.url}/api/v1/query?query=up{job="demo"}`);
        const b = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
        return b.data.result[0]?.value[1] === '1' ? true : undefined;
      });
      const downAt = Date.now();
      await stopTarget();
      // Pending first: the rule holds it for 3s before firing.
      await waitFor('the alert to be pending', async () => {
        const r = await fetch(`${pharos.url}/api/v1/alerts`);
        const b = (await r.json()) as { data: { alerts: Array<{ state: string }> } };
        return b.data.alerts[0]?.state === 'pending' ? true : undefined;
      });
      const firing = await waitFor(
        'a firing notification from Alertmanager',
        async () => received.find((m) => m.status === 'firing'),
        40_000,
      );
      assert.ok(Date.now() - downAt >= 3000, 'not before the for duration');
      assert.deepEqual(firing.alerts[0].labels, {
        alertname: 'TargetDown',
        cluster: 'e2e',
        instance: `127.0.0.1:${targetPort}`,
        job: 'demo',
        severity: 'page',
      });
      assert.equal(firing.alerts[0].annotations.summary, `127.0.0.1:${targetPort} is down`);
      const amAlerts = (await (await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts`)).json()) as Array<{
        generatorURL: string;
        status: { state: string };
      }>;
      assert.equal(amAlerts[0].status.state, 'active');
      assert.match(
        amAlerts[0].generatorURL,
        /\/graph\?g0\.expr=up%7Bjob%3D%22demo%22%7D\+%3D%3D\+0&g0\.tab=1$/,
      );

      await startTarget();
      const resolved = await waitFor(
        'a resolved notification',
        async () => received.find((m) => m.status === 'resolved'),
        40_000,
      );
      assert.equal(resolved.alerts[0].labels.alertname, 'TargetDown');
      const rules = (await (await fetch(`${pharos.url}/api/v1/rules?type=alert`)).json()) as {
        data: { groups: Array<{ rules: Array<{ state: string; health: string }> }> };
      };
      assert.equal(rules.data.groups[0].rules[0].health, 'ok');
    });
  });
