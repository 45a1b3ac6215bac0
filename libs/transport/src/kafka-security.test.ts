// --kafka.client-config.file against a real broker whose client listener needs TLS with a client
// certificate and SASL (PLAIN and SCRAM users made when tools/kafka.sh formats its storage).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@pharos/config';
import { makeTestCerts, type TestCerts } from '@pharos/observability/testing';
import { KafkaLog, loadKafkaSecurity, type RecordCodec } from './index.js';
import { startTestBroker, type TestBroker } from './testing/kafka-broker.js';

const text: RecordCodec<string> = {
  encode: (s) => new TextEncoder().encode(s),
  decode: (b) => new TextDecoder().decode(b),
};

describe('Kafka over TLS with client certificates and SASL', { timeout: 240_000 }, () => {
  let certs: TestCerts;
  let broker: TestBroker;
  const logs: Array<KafkaLog<string>> = [];

  before(() => {
    certs = makeTestCerts();
    broker = startTestBroker({ tlsDir: certs.dir, requireClientCert: true, users: { pharos: 's3cret' } });
  });
  after(async () => {
    await Promise.all(logs.map((l) => l.close()));
    broker?.close();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  const config = (name: string, yaml: string) => {
    const p = join(certs.dir, name);
    writeFileSync(p, yaml);
    return p;
  };
  const tls =
    'tls_config:\n  ca_file: ca.crt\n  cert_file: client.crt\n  key_file: client.key\n  server_name: localhost\n';
  const open = async (file: string | undefined, retries = 8) => {
    const log = await KafkaLog.open({
      brokers: broker.brokers,
      security: loadKafkaSecurity(file),
      topic: `secure.${randomBytes(4).toString('hex')}`,
      partitions: 1,
      clientId: 'pharos-test',
      codec: text,
      connectionTimeout: 2000,
      retries,
    });
    logs.push(log);
    return log;
  };

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    it(`appends and reads back with ${mechanism}`, async () => {
      file('pass.txt', 's3cret\n');
      const log = await open(
        config(
          `${mechanism}.yml`,
          `${tls}sasl:\n  mechanism: ${mechanism}\n  username: pharos\n  password_file: pass.txt\n`,
        ),
      );
      assert.equal(await log.append(0, 'hello'), 0);
      const seen: string[] = [];
      const sub = await log.subscribe(`g-${mechanism}`, [0], async (_p, off, v) => {
        seen.push(`${off}:${v}`);
      });
      await sub.drained();
      await sub.stop();
      assert.deepEqual(seen, ['0:hello']);
    });
  }

  it('refuses a wrong password with the broker’s reason', async () => {
    const wrong = config('wrong.yml', `${tls}sasl:\n  username: pharos\n  password: nope\n`);
    await assert.rejects(open(wrong), /SASL PLAIN authentication failed: .*Invalid username or password/);
  });

  it('refuses a client without a certificate, and plaintext', async () => {
    const noCert = config(
      'nocert.yml',
      'tls_config:\n  ca_file: ca.crt\n  server_name: localhost\nsasl:\n  username: pharos\n  password: s3cret\n',
    );
    await assert.rejects(open(noCert, 0), /bad certificate|certificate required/);
    await assert.rejects(open(undefined, 0), /Closed connection|Connection error|timeout/i);
  });

  it('refuses a bad client config by name when loading', () => {
    assert.throws(
      () =>
        loadKafkaSecurity(config('bad.yml', 'sasl:\n  mechanism: GSSAPI\n  username: a\n  password: b\n')),
      (e: unknown) => e instanceof ConfigError && /unknown SASL mechanism GSSAPI/.test(e.message),
    );
    assert.throws(
      () => loadKafkaSecurity(config('nopass.yml', 'sasl:\n  username: a\n')),
      /sasl needs one of password or password_file/,
    );
    assert.throws(
      () => loadKafkaSecurity(config('typo.yml', 'tls_config: {ca_fle: x}\n')),
      /field ca_fle not found/,
    );
  });

  function file(name: string, content: string) {
    writeFileSync(join(certs.dir, name), content);
  }
});
