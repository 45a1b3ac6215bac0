import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createRegistry } from './metrics.js';
import { startRoleServer } from './role-server.js';
import { basicAuth } from './basic-auth.js';
import { makeTestCerts, type TestCerts } from './testing/test-certs.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Client {
  cert?: string;
  key?: string;
  auth?: string;
}

function get(port: number, path: string, ca: string, c: Client = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca,
        ...(c.cert ? { cert: c.cert, key: c.key } : {}),
        ...(c.auth ? { auth: c.auth } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

const logger = pino({ level: 'silent' });

const serve = (webConfigFile: string) =>
  startRoleServer({
    host: '127.0.0.1',
    port: 0,
    registry: createRegistry(),
    logger,
    ready: () => true,
    webConfigFile,
  });

describe('--web.config.file on a role server', () => {
  let certs: TestCerts;
  let app: FastifyInstance;
  let port: number;
  let file: string;
  const writeConfig = (extra: string) =>
    writeFileSync(
      file,
      `tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
http_server_config:
  headers:
    X-Frame-Options: deny
basic_auth_users:
  alice: ${bcrypt.hashSync('wonderland', 4)}
${extra}`,
    );

  before(async () => {
    certs = makeTestCerts();
    // Relative paths are read from the web config file's directory, as upstream.
    file = join(certs.dir, 'web.yml');
    writeConfig('');
    app = await serve(file);
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  const client = (): Client => ({ cert: certs.clientCert, key: certs.clientKey });

  it('serves TLS with a verified client certificate and basic auth', async () => {
    const r = await get(port, '/metrics', certs.ca, { ...client(), auth: 'alice:wonderland' });
    assert.equal(r.status, 200);
    assert.match(r.body, /process_cpu_seconds_total/);
    assert.equal(r.headers['x-frame-options'], 'deny');
  });

  it('refuses a client with no certificate, or one from another CA, in the handshake', async () => {
    await assert.rejects(get(port, '/-/healthy', certs.ca, { auth: 'alice:wonderland' }));
    await assert.rejects(
      get(port, '/-/healthy', certs.ca, {
        cert: readFileSync(certs.strangerCertFile, 'utf8'),
        key: readFileSync(certs.strangerKeyFile, 'utf8'),
        auth: 'alice:wonderland',
      }),
    );
  });

  it('answers 401 with WWW-Authenticate to a missing, unknown or wrong password', async () => {
    for (const auth of [undefined, 'bob:wonderland', 'alice:wrong', 'alice:']) {
      const r = await get(port, '/-/healthy', certs.ca, { ...client(), ...(auth ? { auth } : {}) });
      assert.equal(r.status, 401, String(auth));
      assert.equal(r.headers['www-authenticate'], 'Basic');
      assert.equal(r.body, 'Unauthorized\n');
    }
    // Every path is behind it, not only the API.
    const r = await get(port, '/no/such/path', certs.ca, client());
    assert.equal(r.status, 401);
  });

  it('applies a changed file to the next request, and answers 500 while it is broken', async () => {
    writeConfig(`  bob: ${bcrypt.hashSync('builder', 4)}\n`);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await get(port, '/-/ready', certs.ca, { ...client(), auth: 'bob:builder' })).status, 200);
    writeFileSync(file, 'basic_auth_users:\n  carol: not-a-bcrypt-hash\n');
    await new Promise((r) => setTimeout(r, 1100));
    const broken = await get(port, '/-/ready', certs.ca, { ...client(), auth: 'bob:builder' });
    assert.equal(broken.status, 500);
    writeConfig('');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(
      (await get(port, '/-/ready', certs.ca, { ...client(), auth: 'alice:wonderland' })).status,
      200,
    );
  });

  it('rate-limits with a token bucket when rate_limit is set', async () => {
    writeConfig('rate_limit:\n  interval: 1m\n  burst: 2\n');
    await new Promise((r) => setTimeout(r, 1100));
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await get(port, '/-/healthy', certs.ca, { ...client(), auth: 'alice:wonderland' })).status);
    assert.deepEqual(codes, [200, 200, 429, 429]);
    writeConfig('');
    await new Promise((r) => setTimeout(r, 1100));
  });
});

describe('--web.config.file at start', () => {
  it('refuses to start on a bad file, naming it', async () => {
    const certs = makeTestCerts();
    const file = join(certs.dir, 'bad.yml');
    writeFileSync(file, 'tls_server_config:\n  cert_file: server.crt\n');
    await assert.rejects(serve(file), /bad\.yml:2: missing one of key or key_file/);
    writeFileSync(file, 'tls_server_config:\n  cert_file: server.crt\n  key_file: missing.key\n');
    await assert.rejects(serve(file), /missing\.key/);
  });

  it('serves plain HTTP with basic auth when the file has no TLS section', async () => {
    const certs = makeTestCerts();
    const file = join(certs.dir, 'auth-only.yml');
    writeFileSync(file, `basic_auth_users:\n  alice: ${bcrypt.hashSync('wonderland', 4)}\n`);
    const app = await serve(file);
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/-/healthy`;
      assert.equal((await fetch(url)).status, 401);
      const ok = await fetch(url, {
        headers: { authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` },
      });
      assert.equal(ok.status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('basicAuth', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cases: Array<[string | undefined, { user: string; pass: string } | undefined]> = [
    [undefined, undefined],
    ['Bearer abc', undefined],
    [`Basic ${b64('alice:wonder:land')}`, { user: 'alice', pass: 'wonder:land' }],
    [`basic ${b64('alice:')}`, { user: 'alice', pass: '' }],
    [`Basic ${b64('no-colon')}`, undefined],
  ];
  for (const [header, want] of cases) it(String(header), () => assert.deepEqual(basicAuth(header), want));
});
