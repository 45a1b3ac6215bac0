// A receiver that never answers, or is not there, must not hold up the Alertmanager's stop: sends in
// flight get a grace period, then are aborted, and what was not delivered stays out of the
// notification log so the next flush (here after a restart, or on a peer) sends it again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Alertmanager, FileState } from './index.js';

describe('stopping with notifications in flight', { timeout: 30_000 }, () => {
  let dir: string;
  let hang: Server;
  const held: IncomingMessage[] = [];
  let hangURL = '';
  let refusedURL = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pharos-am-stop-'));
    hang = createServer((req) => held.push(req));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    hangURL = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/hook`;
    // A port that was free a moment ago refuses connections: every attempt fails and is retried.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    refusedURL = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/hook`;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  after(async () => {
    hang.closeAllConnections();
    await new Promise<void>((r) => hang.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('aborts a send that does not answer and a send that keeps retrying, and logs neither as sent', async () => {
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route: {receiver: both, group_wait: 0s, group_interval: 5m}
receivers:
  - name: both
    webhook_configs: [{url: '${hangURL}'}, {url: '${refusedURL}'}]
`,
    );
    const logger = pino({ level: 'silent' });
    const registry = new Registry();
    const am = new Alertmanager({
      configFile: join(dir, 'alertmanager.yml'),
      externalURL: 'http://127.0.0.1:9093',
      state: new FileState(join(dir, 'state'), logger),
      logger,
      registry,
    });
    await am.start();
    assert.deepEqual(am.putAlerts([{ labels: { alertname: 'Down' } }]), []);
    for (let i = 0; i < 200 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(held.length, 1, 'the hanging receiver got the notification');
    const closed = new Promise<void>((r) => held[0].socket.once('close', () => r()));

    await am.stop();
    await closed;

    const failed = (await registry.getSingleMetric('alertmanager_notifications_failed_total')?.get())?.values;
    assert.equal(
      failed?.reduce((n, v) => n + v.value, 0),
      2,
      'both sends end as failed notifications',
    );
    const key = '{}:{}';
    for (const i of [0, 1]) assert.equal(am.nflog.query(key, `both/webhook/${i}`), undefined);
  });
});
