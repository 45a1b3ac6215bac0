// Two Pharos alertmanager replicas sharing state through a real redis-server (Debian's, started by
// tools/redis.sh, speaking only TLS with client certificates and requiring AUTH): both receive the
// same alerts, the receiver hears each group once; silences made
// on one replica hold on the other, survive a restart, and survive Redis going away for a while.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestCerts } from '@pharos/observability/testing';
import {
  freePort,
  Proc,
  removeDir,
  ROOT,
  tempDir,
  waitFor,
  webhookAlertmanagerConfig,
  webhookReceiver,
} from './harness.js';

const AM_MAIN = join(ROOT, 'dist/apps/alertmanager/main.js');
const REDIS = join(ROOT, 'tools/redis.sh');
const REDIS_PASSWORD = 'pharos-test-secret';

describe('alertmanager replicas on Redis', { timeout: 120_000 }, () => {
  const dir = tempDir('pharos-am-ha-');
  const redisDir = join(dir, 'redis');
  const certs = makeTestCerts();
  const redisEnv = { ...process.env, REDIS_PASSWORD, REDIS_TLS_DIR: certs.dir };
  let redisAddress = '';
  let hook: Server;
  let notifications: Array<{ groupKey: string; status: string }> = [];
  const replicas: Array<{ proc: Proc; url: string; port: number; name: string }> = [];

  const startReplica = async (name: string, port: number) => {
    const proc = new Proc(
      spawn(
        process.execPath,
        [
          AM_MAIN,
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          // One replica has the password in the URL, the other in its client config file.
          name === 'am-a'
            ? `--redis.url=rediss://:${REDIS_PASSWORD}@${redisAddress}`
            : `--redis.url=rediss://${redisAddress}`,
          `--redis.client-config.file=${join(certs.dir, name === 'am-a' ? 'redis-tls.yml' : 'redis.yml')}`,
          `--cluster.peer-name=${name}`,
          '--cluster.peer-timeout=3s',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`replica ${name}`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`exited: ${proc.stderr}`);
      return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
    });
    return { proc, url, port, name };
  };

  before(async () => {
    redisAddress = execFileSync('bash', [REDIS, 'start', redisDir], {
      encoding: 'utf8',
      env: redisEnv,
    }).trim();
    const tls =
      'tls_config:\n  ca_file: ca.crt\n  cert_file: client.crt\n  key_file: client.key\n  server_name: localhost\n';
    writeFileSync(join(certs.dir, 'redis-tls.yml'), tls);
    writeFileSync(join(certs.dir, 'password'), `${REDIS_PASSWORD}\n`);
    writeFileSync(join(certs.dir, 'redis.yml'), `${tls}password_file: password\n`);
    const receiver = await webhookReceiver<{ groupKey: string; status: string }>();
    hook = receiver.server;
    notifications = receiver.received;
    const hookPort = receiver.port;
    writeFileSync(join(dir, 'alertmanager.yml'), webhookAlertmanagerConfig(hookPort));
    for (const name of ['am-a', 'am-b']) replicas.push(await startReplica(name, await freePort()));
    await waitFor('the replicas to see each other', async () => {
      const s = (await (await fetch(`${replicas[0].url}/api/v2/status`)).json()) as {
        cluster: { status: string; peers: unknown[] };
      };
      return s.cluster.status === 'ready' && s.cluster.peers.length === 2 ? true : undefined;
    });
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.proc.stop()));
    hook?.close();
    execFileSync('bash', [REDIS, 'stop', redisDir]);
    removeDir(dir);
    removeDir(certs.dir);
  });

  const post = async (url: string, path: string, body: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return text.startsWith('{') ? (JSON.parse(text) as { silenceID: string }) : undefined;
  };

  it('sends each group once although both replicas got the alerts', async () => {
    const alerts = ['Alpha', 'Beta'].map((alertname) => ({ labels: { alertname, instance: 'x' } }));
    await Promise.all(replicas.map((r) => post(r.url, '/api/v2/alerts', alerts)));
    await waitFor('both groups to be notified', async () => (notifications.length >= 2 ? true : undefined));
    // Past the second replica's wait (one peer timeout) and a few group intervals more.
    await new Promise((r) => setTimeout(r, 6000));
    assert.deepEqual(notifications.map((n) => n.groupKey).sort(), [
      '{}:{alertname="Alpha"}',
      '{}:{alertname="Beta"}',
    ]);
    const metrics = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
    const sent = metrics.map((m) =>
      Number(/alertmanager_notifications_total\{integration="webhook"\} (\d+)/.exec(m)?.[1]),
    );
    assert.equal(sent[0] + sent[1], 2, `one replica sent both: ${sent.join(' + ')}`);
  });

  it('shares silences, keeps them across a restart and through a Redis outage', async () => {
    const [a, b] = replicas;
    const silence = (comment: string) => ({
      matchers: [{ name: 'alertname', value: 'Alpha', isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      createdBy: 'e2e',
      comment,
    });
    const first = await post(a.url, '/api/v2/silences', silence('made on a'));
    const ids = async (url: string) =>
      ((await (await fetch(`${url}/api/v2/silences`)).json()) as Array<{ id: string }>)
        .map((s) => s.id)
        .sort();
    await waitFor('the silence on b', async () =>
      (await ids(b.url)).includes(first!.silenceID) ? true : undefined,
    );
    // b restarts: it reads the silences back from Redis.
    await b.proc.stop();
    replicas[1] = await startReplica(b.name, b.port);
    await waitFor('the silence after b restarted', async () =>
      (await ids(replicas[1].url)).includes(first!.silenceID) ? true : undefined,
    );
    // Redis goes away: a keeps serving and accepts a silence; when Redis returns, b gets it.
    execFileSync('bash', [REDIS, 'stop', redisDir]);
    const second = await post(a.url, '/api/v2/silences', silence('made while Redis was down'));
    assert.equal((await fetch(`${a.url}/-/healthy`)).status, 200);
    assert.ok((await ids(a.url)).includes(second!.silenceID));
    execFileSync('bash', [REDIS, 'start', redisDir], { env: redisEnv });
    await waitFor(
      'the silence made during the outage to reach b',
      async () => ((await ids(replicas[1].url)).includes(second!.silenceID) ? true : undefined),
      30_000,
    );
    assert.match(a.proc.stdout + a.proc.stderr, /Redis unavailable/);
  });
});
