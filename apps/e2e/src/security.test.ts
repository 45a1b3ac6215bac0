// --web.config.file against real peers: promtool judges the same files as we do, a real Prometheus
// scrapes Pharos over mutual TLS with basic auth, amtool talks to its Alertmanager through an HTTP
// client config file, and the lifecycle and admin endpoints answer as upstream.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import bcrypt from 'bcryptjs';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseWebConfig } from '@pharos/config';
import { SampleBatchBuilder } from '@pharos/model';
import { makeTestCerts, type TestCerts } from '@pharos/observability/testing';
import { IngesterClient, QueryClient, sampleBatchToProto, type InstantQueryRequest } from '@pharos/proto';
import {
  freePort,
  instantQuery,
  type Pharos,
  PHAROS_MAIN,
  PHAROS_NODE_FLAGS,
  Proc,
  type Prometheus,
  removeDir,
  requireBinary,
  ROOT,
  startPharos,
  startPrometheus,
  startRole,
  tempDir,
  waitFor,
} from './harness.js';

const promtool = requireBinary('promtool');
const amtool = requireBinary('amtool');

describe('web config files: promtool check web-config and Pharos agree', () => {
  let certs: TestCerts;
  before(() => (certs = makeTestCerts()));

  const files: Array<[string, string]> = [
    ['tls only', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n'],
    [
      'mutual TLS and users',
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\nbasic_auth_users:\n  alice: ${bcrypt.hashSync('x', 4)}\n`,
    ],
    ['missing key', 'tls_server_config:\n  cert_file: server.crt\n'],
    [
      'bad client auth',
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Maybe\n',
    ],
    [
      'CA without policy',
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n',
    ],
    ['plain password', 'basic_auth_users:\n  alice: hunter2\n'],
    ['unknown field', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  kee_file: x\n'],
    ['forbidden header', 'http_server_config:\n  headers:\n    Authorization: x\n'],
  ];
  for (const [name, text] of files) {
    it(name, () => {
      const file = join(certs.dir, `${name.replaceAll(' ', '-')}.yml`);
      writeFileSync(file, text);
      const theirs = spawnSync(promtool, ['check', 'web-config', file], { encoding: 'utf8' });
      let ours: string | undefined;
      try {
        parseWebConfig(text, file);
      } catch (e) {
        ours = (e as Error).message;
      }
      assert.equal(
        ours === undefined,
        theirs.status === 0,
        `promtool: ${theirs.stdout}${theirs.stderr}\npharos: ${ours}`,
      );
    });
  }
});

describe('embedded Pharos behind --web.config.file', () => {
  let certs: TestCerts;
  let dir: string;
  let pharos: Proc;
  let prom: Prometheus | undefined;
  let port: number;
  let amPort: number;
  let grpcPort: number;
  let agent: Agent;
  const auth = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
  const secureGet = (url: string, withAuth = true) =>
    undiciFetch(url, { dispatcher: agent, headers: withAuth ? { authorization: auth } : {} });

  before(async () => {
    certs = makeTestCerts();
    dir = tempDir('pharos-security-');
    port = await freePort();
    amPort = await freePort();
    grpcPort = await freePort();
    writeFileSync(
      join(certs.dir, 'web.yml'),
      `tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
basic_auth_users:
  alice: ${bcrypt.hashSync('wonderland', 10)}
`,
    );
    // amtool's HTTP client config file, in the format of a scrape config's HTTP settings.
    const clientTLS = `tls_config:\n  ca_file: ${certs.caFile}\n  cert_file: ${certs.clientCertFile}\n  key_file: ${certs.clientKeyFile}\n`;
    writeFileSync(
      join(dir, 'http.yml'),
      `basic_auth:\n  username: alice\n  password: wonderland\n${clientTLS}`,
    );
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    scheme: https\n    basic_auth: {username: alice, password: wonderland}\n    tls_config: {ca_file: ${certs.caFile}, cert_file: ${certs.clientCertFile}, key_file: ${certs.clientKeyFile}}\n    static_configs: [{targets: ['127.0.0.1:${port}']}]\n`,
    );
    writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
    agent = new Agent({ connect: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    pharos = new Proc(
      spawn(
        process.execPath,
        [
          ...PHAROS_NODE_FLAGS,
          PHAROS_MAIN,
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          // No --grpc.config.file: gRPC must follow the web config, not stand open beside it.
          `--grpc.listen-address=127.0.0.1:${grpcPort}`,
          `--alertmanager.config.file=${join(dir, 'alertmanager.yml')}`,
          `--alertmanager.listen-address=127.0.0.1:${amPort}`,
          `--web.config.file=${join(certs.dir, 'web.yml')}`,
          '--web.enable-lifecycle',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    await waitFor('Pharos to be ready over TLS', async () => {
      if (pharos.child.exitCode !== null) throw new Error(`pharos exited: ${pharos.stderr}`);
      const r = await secureGet(`https://127.0.0.1:${port}/-/ready`).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    });
  });

  after(async () => {
    await prom?.proc.stop();
    await pharos.stop();
    await agent.close();
    removeDir(dir);
  });

  it('refuses plain HTTP, a client without a certificate, and a request without credentials', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/-/healthy`));
    await assert.rejects(fetch(`https://127.0.0.1:${port}/-/healthy`));
    const r = await secureGet(`https://127.0.0.1:${port}/api/v1/query?query=up`, false);
    assert.equal(r.status, 401);
    const am = await secureGet(`https://127.0.0.1:${amPort}/api/v2/status`, false);
    assert.equal(am.status, 401);
  });

  it('scrapes itself over the same TLS and basic auth', async () => {
    await waitFor('the self-scrape', async () => {
      const r = await secureGet(`https://127.0.0.1:${port}/api/v1/query?query=up`);
      const body = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result[0]?.value[1] === '1' ? true : undefined;
    });
  });

  it('is scraped by a real Prometheus with a client certificate and basic auth', async () => {
    const started = await startPrometheus(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pharos\n    scheme: https\n    basic_auth: {username: alice, password: wonderland}\n    tls_config: {ca_file: ${certs.caFile}, cert_file: ${certs.clientCertFile}, key_file: ${certs.clientKeyFile}}\n    static_configs: [{targets: ['127.0.0.1:${port}']}]\n  - job_name: pharos-no-auth\n    scheme: https\n    tls_config: {ca_file: ${certs.caFile}, cert_file: ${certs.clientCertFile}, key_file: ${certs.clientKeyFile}}\n    static_configs: [{targets: ['127.0.0.1:${port}']}]\n`,
    );
    prom = started;
    const targets = await waitFor('Prometheus to scrape both jobs', async () => {
      const r = await fetch(`${started.url}/api/v1/targets`).catch(() => undefined);
      if (!r?.ok) return undefined;
      const b = (await r.json()) as {
        data: { activeTargets: Array<{ scrapePool: string; health: string; lastError: string }> };
      };
      const t = b.data.activeTargets;
      return t.length === 2 && t.every((x) => x.health !== 'unknown') ? t : undefined;
    });
    const byPool = Object.fromEntries(targets.map((t) => [t.scrapePool, t]));
    assert.equal(byPool.pharos.health, 'up', byPool.pharos.lastError);
    assert.equal(byPool['pharos-no-auth'].health, 'down');
    assert.match(byPool['pharos-no-auth'].lastError, /401 Unauthorized/);
    await started.proc.stop();
    removeDir(started.dir);
    prom = undefined;
  });

  it('answers amtool using an HTTP client config file', async () => {
    const a = spawnSync(
      amtool,
      [
        `--alertmanager.url=https://127.0.0.1:${amPort}`,
        `--http.config.file=${join(dir, 'http.yml')}`,
        'config',
        'routes',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /none/);
    writeFileSync(
      join(dir, 'wrong.yml'),
      readFileSync(join(dir, 'http.yml'), 'utf8').replace('wonderland', 'nope'),
    );
    const wrong = spawnSync(
      amtool,
      [
        `--alertmanager.url=https://127.0.0.1:${amPort}`,
        `--http.config.file=${join(dir, 'wrong.yml')}`,
        'silence',
        'query',
      ],
      { encoding: 'utf8' },
    );
    assert.notEqual(wrong.status, 0);
  });

  it("locks gRPC with the web config's TLS and users when it has no config of its own", async () => {
    const tls = credentials.createSsl(
      Buffer.from(certs.ca),
      Buffer.from(certs.clientKey),
      Buffer.from(certs.clientCert),
    );
    const opts = { 'grpc.ssl_target_name_override': 'localhost' };
    const instant = (creds: ChannelCredentials, md: Metadata) =>
      new Promise<{ code: number | undefined; series: number }>((resolve) => {
        const c = new QueryClient(`127.0.0.1:${grpcPort}`, creds, opts);
        c.instant(
          { query: 'vector(1)' } as InstantQueryRequest,
          md,
          { deadline: Date.now() + 5000 },
          (err, res) => {
            c.close();
            resolve({ code: err?.code, series: res?.series.length ?? 0 });
          },
        );
      });
    const withAuth = new Metadata();
    withAuth.set('authorization', auth);
    assert.equal((await instant(credentials.createInsecure(), withAuth)).code, status.UNAVAILABLE);
    assert.equal((await instant(tls, new Metadata())).code, status.UNAUTHENTICATED);
    assert.deepEqual(await instant(tls, withAuth), { code: undefined, series: 1 });
    // Push is a write path, and this process has none enabled (no remote write receiver).
    const pushed = await new Promise<number | undefined>((resolve) => {
      const c = new IngesterClient(`127.0.0.1:${grpcPort}`, tls, opts);
      c.push({ batch: sampleBatchToProto(new SampleBatchBuilder().build()) }, withAuth, (err) => {
        c.close();
        resolve(err?.code);
      });
    });
    assert.equal(pushed, status.UNIMPLEMENTED);
  });

  it('answers the admin API as disabled, and /-/quit shuts down cleanly', async () => {
    const admin = await undiciFetch(`https://127.0.0.1:${port}/api/v1/admin/tsdb/snapshot`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: auth },
    });
    assert.equal(admin.status, 503);
    assert.deepEqual(await admin.json(), {
      status: 'error',
      errorType: 'unavailable',
      error: 'admin APIs disabled',
    });
    const quit = await undiciFetch(`https://127.0.0.1:${port}/-/quit`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: auth },
    });
    assert.equal(quit.status, 200);
    assert.equal(await quit.text(), 'Requesting termination... Goodbye!\n');
    assert.equal(await pharos.exited, 0);
  });
});

describe('gRPC between roles behind --grpc.config.file and --grpc.client-config.file', () => {
  let certs: TestCerts;
  let pharos: Pharos;
  let grpcAddress = '';
  const queriers: Proc[] = [];

  before(async () => {
    certs = makeTestCerts();
    writeFileSync(
      join(certs.dir, 'grpc.yml'),
      `tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ca.crt
  client_auth_type: RequireAndVerifyClientCert
basic_auth_users:
  querier: ${bcrypt.hashSync('s3cret', 4)}
`,
    );
    writeFileSync(
      join(certs.dir, 'client.yml'),
      `tls_config:
  ca_file: ca.crt
  cert_file: client.crt
  key_file: client.key
  server_name: localhost
basic_auth:
  username: querier
  password: s3cret
`,
    );
    const grpcPort = await freePort();
    pharos = await startPharos(
      (port) =>
        `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:${port}']}]\n`,
      {
        args: [
          `--grpc.listen-address=127.0.0.1:${grpcPort}`,
          `--grpc.config.file=${join(certs.dir, 'grpc.yml')}`,
        ],
      },
    );
    grpcAddress = `127.0.0.1:${grpcPort}`;
    await waitFor('the first self-scrape', async () =>
      (await instantQuery(pharos.url, 'up{job="self"}')).length > 0 ? true : undefined,
    );
  });
  after(async () => {
    await Promise.all(queriers.map((q) => q.stop()));
    await pharos.proc.stop();
    removeDir(pharos.dir);
    removeDir(certs.dir);
  });

  const startQuerier = async (clientConfig: string | undefined) => {
    const q = await startRole(join(ROOT, 'dist/apps/querier/main.js'), [
      `--ingester.addresses=${grpcAddress}`,
      '--grpc.listen-address=127.0.0.1:0',
      ...(clientConfig ? [`--grpc.client-config.file=${clientConfig}`] : []),
    ]);
    queriers.push(q.proc);
    return q.url;
  };

  it('a querier with the client certificate and password reads the embedded ingester', async () => {
    const url = await startQuerier(join(certs.dir, 'client.yml'));
    const up = await instantQuery(url, 'up{job="self"}');
    assert.equal(up.length, 1);
    assert.equal(up[0].value[1], '1');
  });

  it('a querier without them is refused, and says why', async () => {
    const url = await startQuerier(undefined);
    const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('up{job="self"}')}`);
    const body = (await r.json()) as { status: string; error?: string };
    assert.equal(body.status, 'error', JSON.stringify(body));
    assert.match(body.error ?? '', /ingester: .*(No connection established|Connection dropped)/);
  });
});
