import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Signed by another CA: a client the server must not trust. */
  readonly strangerCertFile: string;
  readonly strangerKeyFile: string;
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** P-256 keys: quick to make, and every TLS stack here (Node, Go, Java) accepts them. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function leaf(dir: string, name: string, cn: string, ca: string, san: string): void {
  openssl(dir, ['req', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/**
 * A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, made
 * with the openssl command line so that tests need no certificate checked in.
 */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'pharos-certs-'));
  for (const ca of ['ca', 'other-ca'])
    openssl(dir, [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=pharos test ${ca}`,
    ]);
  leaf(dir, 'server', '127.0.0.1', 'ca', 'IP:127.0.0.1,DNS:localhost');
  leaf(dir, 'client', 'pharos-client', 'ca', 'DNS:client.pharos.test');
  leaf(dir, 'stranger', 'stranger', 'other-ca', 'DNS:stranger.test');
  const f = (n: string) => join(dir, n);
  return {
    dir,
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    strangerCertFile: f('stranger.crt'),
    strangerKeyFile: f('stranger.key'),
    ca: readFileSync(f('ca.crt'), 'utf8'),
    clientCert: readFileSync(f('client.crt'), 'utf8'),
    clientKey: readFileSync(f('client.key'), 'utf8'),
  };
}
