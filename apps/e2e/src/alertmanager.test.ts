// Pharos' alertmanager role against Debian's prometheus-alertmanager and amtool: the same amtool
// commands give the same output from both when fed the same alerts; and Pharos delivers real
// notifications to a local webhook receiver and a local SMTP server (STARTTLS and AUTH).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { freePort, listen, Proc, removeDir, requireBinary, ROOT, tempDir, waitFor } from './harness.js';

const AM_MAIN = join(ROOT, 'dist/apps/alertmanager/main.js');
const EXAMPLE = join(ROOT, 'apps/alertmanager/config/alertmanager.yml');

async function startPharosAM(dir: string, config: string, port: number): Promise<Proc> {
  const p = new Proc(
    spawn(
      process.execPath,
      [
        AM_MAIN,
        `--config.file=${config}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  await waitFor('the Pharos alertmanager', async () => {
    if (p.child.exitCode !== null) throw new Error(`exited: ${p.stderr}`);
    return (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok ? true : undefined;
  });
  return p;
}

describe('amtool against Pharos and the real Alertmanager', { timeout: 120_000 }, () => {
  const dir = tempDir('pharos-amtool-');
  const procs: Proc[] = [];
  let pharosURL = '';
  let realURL = '';
  let amtool = '';

  before(async () => {
    amtool = requireBinary('amtool');
    const realBin = requireBinary('prometheus-alertmanager');
    const [pPort, rPort] = [await freePort(), await freePort()];
    procs.push(await startPharosAM(dir, EXAMPLE, pPort));
    const real = new Proc(
      spawn(
        realBin,
        [
          `--config.file=${EXAMPLE}`,
          `--storage.path=${join(dir, 'real')}`,
          `--web.listen-address=127.0.0.1:${rPort}`,
          '--cluster.listen-address=',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    procs.push(real);
    await waitFor('the real alertmanager', async () =>
      (await fetch(`http://127.0.0.1:${rPort}/-/ready`)).ok ? true : undefined,
    );
    pharosURL = `http://127.0.0.1:${pPort}`;
    realURL = `http://127.0.0.1:${rPort}`;
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    removeDir(dir);
  });

  const run = (url: string, args: string[]) => {
    const r = spawnSync(amtool, [`--alertmanager.url=${url}`, ...args], { encoding: 'utf8' });
    return {
      code: r.status,
      out: r.stdout.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>'),
    };
  };
  const both = (args: string[]) => ({ pharos: run(pharosURL, args), real: run(realURL, args) });
  const same = (args: string[]) => {
    const r = both(args);
    assert.equal(r.pharos.code, r.real.code, `exit code of amtool ${args.join(' ')}`);
    assert.equal(r.pharos.out, r.real.out, `output of amtool ${args.join(' ')}`);
    return r.pharos.out;
  };

  it('alert add and alert query (table, extended, JSON fingerprints)', async () => {
    const start = '2026-11-30T10:00:00Z';
    // One absolute end for both: without it each server ends an alert at its own receive time
    // plus resolve_timeout, and the tables differ whenever the two adds straddle a second.
    const end = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000).toISOString().replace('.000', '');
    for (const a of [
      ['HighLatency', 'severity=warning', 'instance=web-1', 'job=api', '--annotation=summary=slow responses'],
      ['HighLatency', 'severity=critical', 'instance=web-1', 'job=api', '--annotation=summary=very slow'],
      ['DiskFull', 'severity=warning', 'instance=db-1', 'team=db'],
    ]) {
      same(['alert', 'add', ...a, `--start=${start}`, `--end=${end}`]);
    }
    // Both servers mark inhibition asynchronously (the real one when its inhibitor has seen the
    // source alert), and the default query hides inhibited alerts: compare once both have settled.
    for (const url of [pharosURL, realURL]) {
      await waitFor(
        `inhibition at ${url}`,
        async () => {
          const alerts = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Array<{
            labels: Record<string, string>;
            status: { inhibitedBy: string[] };
          }>;
          const warning = alerts.find(
            (a) => a.labels.alertname === 'HighLatency' && a.labels.severity === 'warning',
          );
          return warning && warning.status.inhibitedBy.length > 0 ? true : undefined;
        },
        10_000,
      );
    }
    const table = same(['alert', 'query']);
    assert.match(table, /HighLatency/);
    same(['alert', 'query', 'severity=warning']);
    same(['alert', 'query', '-o', 'extended']);
    // The warning is inhibited by the critical alert with equal alertname and instance.
    same(['alert', 'query', '--inhibited']);
    const fps = (url: string) =>
      (
        JSON.parse(run(url, ['alert', 'query', '-o', 'json']).out) as Array<{
          fingerprint: string;
          receivers: unknown;
          status: unknown;
        }>
      )
        .map((a) => JSON.stringify([a.fingerprint, a.receivers, a.status]))
        .sort();
    assert.deepEqual(fps(pharosURL), fps(realURL));
  });

  it('silence add, query and expire', () => {
    // One absolute end for both: with -d each server's end is its own now + 2h, and the two
    // tables differ whenever the two adds straddle a second.
    const end = new Date(Math.floor(Date.now() / 1000) * 1000 + 2 * 3600_000)
      .toISOString()
      .replace('.000', '');
    const id = (url: string) =>
      run(url, ['silence', 'add', 'alertname=DiskFull', '-c', 'disk work', '-a', 'ops', `--end=${end}`]);
    const r = { pharos: id(pharosURL), real: id(realURL) };
    assert.equal(r.pharos.out, r.real.out);
    same(['silence', 'query']);
    same(['silence', 'query', 'alertname=DiskFull']);
    same(['alert', 'query', '--silenced']);
    const pid = run(pharosURL, ['silence', 'query', '-q']);
    assert.equal(pid.out.trim(), '<id>');
    const ids = (url: string) =>
      spawnSync(amtool, [`--alertmanager.url=${url}`, 'silence', 'query', '-q'], {
        encoding: 'utf8',
      }).stdout.trim();
    for (const url of [pharosURL, realURL])
      execFileSync(amtool, [`--alertmanager.url=${url}`, 'silence', 'expire', ids(url)]);
    same(['silence', 'query']);
    // An expired silence ends when it was expired, which is each server's own now.
    const expired = both(['silence', 'query', '--expired']);
    const noTimes = (out: string) => out.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/g, '<time>');
    assert.match(expired.real.out, /DiskFull.*UTC/);
    assert.equal(noTimes(expired.pharos.out), noTimes(expired.real.out));
  });

  it('config routes, routes test and check-config', () => {
    same(['config', 'routes']);
    for (const labels of [
      ['severity=critical'],
      ['team=db'],
      ['severity=critical', 'team=storage'],
      ['alertname=x'],
    ]) {
      same(['config', 'routes', 'test', ...labels]);
    }
    const check = spawnSync(amtool, ['check-config', EXAMPLE], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});

describe('notifications from Pharos: webhook and SMTP', { timeout: 60_000 }, () => {
  const dir = tempDir('pharos-notify-');
  let am: Proc;
  let url = '';
  let hook: Server;
  let smtp: SMTPServer;
  const hooks: Array<{
    status: string;
    receiver: string;
    groupKey: string;
    alerts: Array<{ status: string; labels: Record<string, string> }>;
  }> = [];
  const mails: Array<{ raw: string; user: string; secure: boolean }> = [];

  before(async () => {
    const [amPort, hookPort, smtpPort] = [await freePort(), await freePort(), await freePort()];
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body) as (typeof hooks)[number]);
        res.end();
      });
    });
    await listen(hook, hookPort);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    smtp = new SMTPServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'am' && auth.password === 's3cret') cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        let raw = '';
        stream.on('data', (d: Buffer) => (raw += d.toString()));
        stream.on('end', () => {
          mails.push({ raw, user: String(session.user), secure: session.secure });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', () => r()));
    const config = join(dir, 'alertmanager.yml');
    writeFileSync(
      config,
      `global:
  smtp_smarthost: '127.0.0.1:${smtpPort}'
  smtp_from: 'pharos@example.org'
  smtp_auth_username: am
  smtp_auth_password: s3cret
  smtp_tls_config: {insecure_skip_verify: true}
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  routes:
    - matchers: [severity="page"]
      receiver: mail
      continue: true
    # The root's receiver only takes alerts no child route matched; this child takes the rest.
    - receiver: hook
receivers:
  - name: hook
    webhook_configs:
      - url: 'http://127.0.0.1:${hookPort}/alerts'
  - name: mail
    email_configs:
      - to: 'oncall@example.org'
        send_resolved: true
`,
    );
    am = await startPharosAM(dir, config, amPort);
    url = `http://127.0.0.1:${amPort}`;
  });

  after(async () => {
    await am?.stop();
    hook?.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    removeDir(dir);
  });

  const post = async (alerts: unknown[]) => {
    const r = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    assert.equal(r.status, 200, await r.text());
  };

  it('fires and resolves through the webhook, and mails with STARTTLS and AUTH', async () => {
    const labels = { alertname: 'BackendDown', severity: 'page', instance: 'b-1' };
    await post([
      { labels, annotations: { summary: 'backend b-1 is down' }, generatorURL: 'http://prom/graph' },
    ]);
    const firing = await waitFor('the firing webhook', async () => hooks.find((h) => h.status === 'firing'));
    assert.equal(firing.receiver, 'hook');
    assert.equal(firing.groupKey, '{}/{}:{alertname="BackendDown"}');
    assert.deepEqual(
      firing.alerts.map((a) => a.labels),
      [labels],
    );
    const groups = (await (await fetch(`${url}/api/v2/alerts/groups`)).json()) as Array<{
      labels: Record<string, string>;
      receiver: { name: string };
      alerts: Array<{ receivers: Array<{ name: string }> }>;
    }>;
    assert.deepEqual(
      groups.map((g) => [g.receiver.name, g.labels, g.alerts[0].receivers.map((r) => r.name)]),
      [
        ['hook', { alertname: 'BackendDown' }, ['mail', 'hook']],
        ['mail', { alertname: 'BackendDown' }, ['mail', 'hook']],
      ],
    );
    const onlyMail = (await (await fetch(`${url}/api/v2/alerts/groups?receiver=mail`)).json()) as unknown[];
    assert.equal(onlyMail.length, 1);
    const mail = await waitFor('the firing email', async () => mails[0]);
    assert.equal(mail.user, 'am');
    assert.equal(mail.secure, true, 'the session was upgraded with STARTTLS');
    assert.match(mail.raw, /^Subject: \[FIRING:1\] BackendDown \(b-1 page\)/m);
    assert.match(mail.raw, /^To: oncall@example\.org/m);
    assert.match(mail.raw, /Content-Type: text\/html/);
    // Resolve: endsAt now.
    await post([
      { labels, endsAt: new Date().toISOString(), startsAt: new Date(Date.now() - 60_000).toISOString() },
    ]);
    const resolved = await waitFor('the resolved webhook', async () =>
      hooks.find((h) => h.status === 'resolved'),
    );
    assert.equal(resolved.alerts[0].status, 'resolved');
    await waitFor('the resolved email', async () =>
      mails.find((m) => /Subject: \[RESOLVED\] BackendDown/.test(m.raw)),
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /alertmanager_notifications_total\{integration="webhook"\} 2/);
    assert.match(metrics, /alertmanager_notifications_total\{integration="email"\} 2/);
    assert.doesNotMatch(
      metrics,
      /alertmanager_notifications_failed_total\{integration="(email|webhook)"[^}]*\} [1-9]/,
    );
  });

  it('refuses a broken config on POST /-/reload and keeps the old one', async () => {
    const config = join(dir, 'alertmanager.yml');
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, good.replace('receiver: hook\n', 'receiver: nobody\n'));
    const r = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(r.status, 500);
    assert.match(await r.text(), /undefined receiver "nobody" used in route/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^alertmanager_config_last_reload_successful 0$/m);
    const receivers = (await (await fetch(`${url}/api/v2/receivers`)).json()) as Array<{ name: string }>;
    assert.deepEqual(receivers.map((x) => x.name).sort(), ['hook', 'mail']);
    writeFileSync(config, good);
    assert.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);
  });

  it('refuses invalid alerts with a 400 and keeps serving', async () => {
    const r = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: {} }, { labels: { a: 'b' }, startsAt: 'yesterday' }]),
    });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /date-time|at least one label pair/);
    assert.equal((await fetch(`${url}/-/healthy`)).status, 200);
  });
});
