// The scraper and the ingester through a broker that takes clients only over TLS with a client
// certificate and SASL: samples remote-written to the scraper reach the ingester's storage, and
// a scraper with a wrong password says why it cannot publish.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngesterGrpcClient } from '@pharos/ingest';
import { LabelMatcher, labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { makeTestCerts, type TestCerts } from '@pharos/observability/testing';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import { startTestBroker, type TestBroker } from '@pharos/transport/testing';
import type { Proc } from './harness.js';
import { freePort, PHAROS_NODE_FLAGS, removeDir, ROOT, startRole, waitFor } from './harness.js';

const INGESTER_MAIN = join(ROOT, 'dist/apps/ingester/main.js');
const SCRAPER_MAIN = join(ROOT, 'dist/apps/scraper/main.js');

describe('roles on a Kafka broker that needs TLS and SASL', { timeout: 240_000 }, () => {
  let certs: TestCerts;
  let broker: TestBroker;
  const procs: Proc[] = [];
  const topic = `secure.${randomBytes(4).toString('hex')}`;

  before(() => {
    certs = makeTestCerts();
    broker = startTestBroker({ tlsDir: certs.dir, requireClientCert: true, users: { pharos: 's3cret' } });
    writeFileSync(join(certs.dir, 'prometheus.yml'), 'scrape_configs: []\n');
    const kafka = (password: string) =>
      `tls_config:\n  ca_file: ca.crt\n  cert_file: client.crt\n  key_file: client.key\n  server_name: localhost\nsasl:\n  mechanism: SCRAM-SHA-512\n  username: pharos\n  password: ${password}\n`;
    writeFileSync(join(certs.dir, 'kafka.yml'), kafka('s3cret'));
    writeFileSync(join(certs.dir, 'wrong.yml'), kafka('nope'));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    broker?.close();
    removeDir(certs.dir);
  });

  const start = async (main: string, args: string[], ready = true) => {
    const role = await startRole(
      main,
      [
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
        ...args,
      ],
      { ready, nodeFlags: PHAROS_NODE_FLAGS },
    );
    procs.push(role.proc);
    return role;
  };

  it('carries remote-written samples from the scraper to the ingester', async () => {
    const grpcPort = await freePort();
    await start(INGESTER_MAIN, [
      '--ingester.partitions=0,1,2,3',
      `--ingester.group=${topic}.ingesters`,
      `--storage.tsdb.path=${join(certs.dir, 'ingester')}`,
      `--grpc.listen-address=127.0.0.1:${grpcPort}`,
      `--kafka.client-config.file=${join(certs.dir, 'kafka.yml')}`,
    ]);
    const scraper = await start(SCRAPER_MAIN, [
      `--config.file=${join(certs.dir, 'prometheus.yml')}`,
      // Nothing to discover here: the scraper only gateways remote_write into Kafka.
      `--discovery.address=127.0.0.1:${await freePort()}`,
      '--web.enable-remote-write-receiver',
      `--ingester.addresses=127.0.0.1:${grpcPort}`,
      `--kafka.client-config.file=${join(certs.dir, 'kafka.yml')}`,
    ]);

    const b = new SampleBatchBuilder();
    for (let i = 0; i < 20; i++) b.push(labelsFrom({ __name__: 'secure_total', i: String(i) }), 1000, i);
    const r = await fetch(`${scraper.url}/api/v1/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
      body: Buffer.from(snappyEncode(encodeWriteRequest(b.build()))),
    });
    assert.equal(r.status, 204, await r.text());

    const client = new IngesterGrpcClient(`127.0.0.1:${grpcPort}`);
    try {
      await waitFor('the samples in the ingester', async () => {
        const series = await client.select([new LabelMatcher('=', '__name__', 'secure_total')], 0, 1e12);
        return series.length === 20 ? true : undefined;
      });
    } finally {
      client.close();
    }
  });

  it('a scraper with a wrong password logs the broker’s reason and keeps trying', async () => {
    const scraper = await start(
      SCRAPER_MAIN,
      [
        `--config.file=${join(certs.dir, 'prometheus.yml')}`,
        `--discovery.address=127.0.0.1:${await freePort()}`,
        `--kafka.client-config.file=${join(certs.dir, 'wrong.yml')}`,
      ],
      false,
    );
    await waitFor('the refusal in its log', async () =>
      /invalid credentials with SASL mechanism SCRAM-SHA-512/.test(scraper.proc.stdout + scraper.proc.stderr)
        ? true
        : undefined,
    );
    assert.equal(scraper.proc.child.exitCode, null, 'still running');
  });
});
