// The Ingester service behind --grpc.config.file (TLS, client certificates, basic auth) called
// by the client --grpc.client-config.file sets up, over loopback with an openssl-made CA.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Server } from '@grpc/grpc-js';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { ConfigError } from '@pharos/config';
import { makeTestCerts, type TestCerts } from '@pharos/observability/testing';
import { GrpcServerSecurity, insecureChannel, loadGrpcChannelSecurity } from '@pharos/transport';
import { emptyAppendResult } from '@pharos/tsdb';
import { createIngesterServer, IngesterGrpcClient, listenGrpc, type IngesterBackend } from './index.js';

const backend: IngesterBackend = {
  push: async () => emptyAppendResult(),
  select: async () => [],
  selectChunks: async () => [],
  series: async () => [],
  labelNames: async () => ['job'],
  labelValues: async () => [],
};

describe('gRPC with TLS, client certificates and basic auth', () => {
  let certs: TestCerts;
  let server: Server;
  let address = '';
  const logger = pino({ level: 'silent' });
  const file = (name: string, text: string) => {
    const p = join(certs.dir, name);
    writeFileSync(p, text);
    return p;
  };
  const names = async (clientConfig: string | undefined) => {
    const c = new IngesterGrpcClient(
      address,
      clientConfig === undefined ? insecureChannel() : loadGrpcChannelSecurity(clientConfig),
      5_000,
    );
    try {
      return await c.labelNames([], 0, 1);
    } finally {
      c.close();
    }
  };

  before(async () => {
    certs = makeTestCerts();
    const hash = bcrypt.hashSync('s3cret', 4);
    const serverConfig = file(
      'grpc.yml',
      `tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ca.crt
  client_auth_type: RequireAndVerifyClientCert
basic_auth_users:
  querier: '${hash}'
`,
    );
    const security = GrpcServerSecurity.load(serverConfig, logger);
    server = createIngesterServer(backend, security.newServer());
    address = `127.0.0.1:${await listenGrpc(server, '127.0.0.1:0', security.credentials())}`;
  });
  after(async () => {
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    rmSync(certs.dir, { recursive: true, force: true });
  });

  const client = (extra: string) => `tls_config:\n  ca_file: ca.crt\n  server_name: localhost\n${extra}`;
  const withCert = '  cert_file: client.crt\n  key_file: client.key\n';

  it('answers a client with the CA, a certificate and the password', async () => {
    const ok = file(
      'ok.yml',
      client(withCert + 'basic_auth:\n  username: querier\n  password_file: pass.txt\n'),
    );
    file('pass.txt', 's3cret\n');
    assert.deepEqual(await names(ok), ['job']);
  });

  it('refuses a wrong password or none with UNAUTHENTICATED', async () => {
    const wrong = file(
      'wrong.yml',
      client(withCert + 'basic_auth:\n  username: querier\n  password: nope\n'),
    );
    await assert.rejects(names(wrong), /ingester: Unauthorized/);
    const unknown = file(
      'unknown.yml',
      client(withCert + 'basic_auth:\n  username: who\n  password: s3cret\n'),
    );
    await assert.rejects(names(unknown), /ingester: Unauthorized/);
    const none = file('none.yml', client(withCert));
    await assert.rejects(names(none), /ingester: Unauthorized/);
  });

  it('refuses plaintext, a client without a certificate and a certificate from another CA', async () => {
    const auth = 'basic_auth:\n  username: querier\n  password: s3cret\n';
    await assert.rejects(names(undefined), /No connection established/);
    await assert.rejects(names(file('nocert.yml', client(auth))), /certificate required/);
    const stranger = file(
      'stranger.yml',
      client(`  cert_file: ${certs.strangerCertFile}\n  key_file: ${certs.strangerKeyFile}\n${auth}`),
    );
    await assert.rejects(names(stranger), /No connection established/);
  });

  it('refuses a server certificate from an unknown CA unless insecure_skip_verify', async () => {
    const auth = 'basic_auth:\n  username: querier\n  password: s3cret\n';
    const cert = `  cert_file: client.crt\n  key_file: client.key\n`;
    const foreign = file(
      'foreign.yml',
      `tls_config:\n  ca_file: ${certs.strangerCertFile}\n  server_name: localhost\n${cert}${auth}`,
    );
    await assert.rejects(names(foreign), /self-signed certificate/);
    const skip = file(
      'skip.yml',
      `tls_config:\n  insecure_skip_verify: true\n  server_name: localhost\n${cert}${auth}`,
    );
    assert.deepEqual(await names(skip), ['job']);
  });

  it('refuses what gRPC cannot apply when loading, by name', () => {
    const cases: Array<[string, RegExp]> = [
      ['rate_limit: {interval: 1s, burst: 1}\n', /rate_limit: not supported on gRPC/],
      [
        'tls_server_config: {cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt, client_auth_type: VerifyClientCertIfGiven}\n',
        /client_auth_type VerifyClientCertIfGiven .*: not supported on gRPC/,
      ],
      [
        'tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: TLS13}\n',
        /min_version, max_version: not supported on gRPC/,
      ],
      ['basic_auth_users: {a: notahash}\n', /bcrypt/],
    ];
    for (const [text, want] of cases) {
      assert.throws(
        () => GrpcServerSecurity.load(file('bad.yml', text), logger),
        (e: unknown) => e instanceof ConfigError && want.test(e.message),
        text,
      );
    }
    assert.throws(
      () => loadGrpcChannelSecurity(file('bad-client.yml', 'basic_auth: {username: a, password: b}\n')),
      /basic_auth needs tls_config/,
    );
    assert.throws(
      () => loadGrpcChannelSecurity(file('missing.yml', 'tls_config: {ca_file: nowhere.crt}\n')),
      /ENOENT/,
    );
  });
});
