// The distributed remote write gateway answers as the embedded receiver does: it produces a
// request to Kafka, then asks the owner of each partition what storage made of its record, so a
// refused sample is a 400 with the reason, never a 204 for data that was dropped.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rawWriteRequest, type RawSeries } from '@pharos/remote/testing';
import { freePort, startRole as startRoleProcess, tempDir, waitFor } from './harness.js';
import {
  dirs,
  instant,
  kafkaBroker,
  procs,
  SCRAPER_MAIN,
  startIngester,
  startQuerier,
  startRole,
  useKafkaRoles,
} from './kafka-roles.js';

useKafkaRoles();

describe('distributed remote write', () => {
  it("answers from the owners' verdicts: out of order and duplicates are 400s, the rest stored", async () => {
    const topic = `samples.${randomBytes(4).toString('hex')}`;
    const dir = tempDir('pharos-rw-');
    dirs.push(dir);
    writeFileSync(join(dir, 'empty.yml'), 'scrape_configs: []\n');
    // Two ingesters, two partitions each, known by address only: the gateway cannot tell which
    // owns what, so it asks both and takes the owner's answer.
    const a = await startIngester(topic, join(dir, 'a'), '0,1');
    const b = await startIngester(topic, join(dir, 'b'), '2,3');
    const port = await freePort();
    const gatewayURL = `http://127.0.0.1:${port}`;
    await startRole(SCRAPER_MAIN, port, [
      `--config.file=${join(dir, 'empty.yml')}`,
      `--discovery.address=127.0.0.1:${await freePort()}`,
      `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
      `--kafka.topic=${topic}`,
      '--kafka.partitions=4',
      '--web.enable-remote-write-receiver',
      `--ingester.addresses=${a.grpc},${b.grpc}`,
    ]);
    const q = await startQuerier([a, b]);
    const post = async (series: RawSeries[]) => {
      const r = await fetch(`${gatewayURL}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        body: rawWriteRequest(series),
      });
      return { status: r.status, body: (await r.text()).trim() };
    };
    const now = Date.now();
    // Twenty series, so every partition, and so both ingesters, hold some.
    const many: RawSeries[] = Array.from({ length: 20 }, (_, i) => [
      [
        ['__name__', 'pushed'],
        ['i', String(i)],
      ],
      [[now, i]],
    ]);
    assert.deepEqual(await post(many), { status: 204, body: '' });
    const late: RawSeries[] = many.map(([labels]) => [labels, [[now - 1000, 0]]]);
    const refused = await post([...late, [[['__name__', 'fresh']], [[now, 1]]]]);
    assert.equal(refused.status, 400);
    assert.match(
      refused.body,
      /^out of order sample for series pushed\{i="\d+"\} \(20 of 21 samples refused, the others stored\)$/,
    );
    const dup = await post([
      [
        [
          ['__name__', 'pushed'],
          ['i', '3'],
        ],
        [[now, 99]],
      ],
    ]);
    assert.equal(dup.status, 400);
    assert.match(
      dup.body,
      /^duplicate sample for timestamp \d+; overrides not allowed: existing 3, new value 99/,
    );
    // An identical resend (a sender retrying after a 503) is taken silently.
    assert.deepEqual(await post(many), { status: 204, body: '' });
    const future = await post([[[['__name__', 'ahead']], [[now + 16 * 86_400_000, 1]]]]);
    assert.equal(future.status, 400);
    assert.match(future.body, /too far in the future/);

    await waitFor('what was stored, through the querier', async () => {
      const n = await instant(q.url, 'count(pushed) + count(fresh)', now / 1000);
      return n[0]?.value[1] === '21' ? true : undefined;
    });
    assert.deepEqual(await instant(q.url, 'ahead', now / 1000), []);
    assert.equal((await instant(q.url, 'pushed{i="3"}', now / 1000))[0]?.value[1], '3');
  });

  it('refuses to start a receiver that could not tell what storage made of a request', async () => {
    const dir = tempDir('pharos-rw-');
    dirs.push(dir);
    writeFileSync(join(dir, 'empty.yml'), 'scrape_configs: []\n');
    const gateway = await startRoleProcess(
      SCRAPER_MAIN,
      [
        `--config.file=${join(dir, 'empty.yml')}`,
        `--discovery.address=127.0.0.1:${await freePort()}`,
        `--kafka.brokers=${kafkaBroker().brokers.join(',')}`,
        '--web.enable-remote-write-receiver',
      ],
      { ready: false },
    );
    procs.push(gateway.proc);
    const code = await gateway.proc.exited;
    assert.notEqual(code, 0);
    assert.match(gateway.proc.stderr, /--web.enable-remote-write-receiver needs the ingesters/);
  });
});
