import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { IngesterGrpcClient } from '@pharos/ingest';
import { LabelMatcher, labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { QueryClient, ResultType, type QueryResponse } from '@pharos/proto';
import { freePort, instantQuery, removeDir, startPharos, waitFor, type Pharos } from './harness.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** The all-in-one server's gRPC port: the Query service for applications, the Ingester service. */
describe('gRPC services of the all-in-one server', () => {
  let pharos: Pharos;
  let grpcAddress: string;

  it('answers pharos.v1.Query.Instant with the scraped up series', async () => {
    const port = await freePort();
    grpcAddress = `127.0.0.1:${port}`;
    pharos = await startPharos(
      (http) => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pharos
    static_configs:
      - targets: ["127.0.0.1:${http}"]
`,
      // Push is a write path: served with the remote write receiver on.
      { args: [`--grpc.listen-address=${grpcAddress}`, '--web.enable-remote-write-receiver'] },
    );
    cleanup.push(() => pharos.proc.stop());
    cleanup.push(() => removeDir(pharos.dir));
    await waitFor('a scrape', async () =>
      (await instantQuery(pharos.url, 'up')).length > 0 ? true : undefined,
    );
    const client = new QueryClient(grpcAddress, credentials.createInsecure());
    cleanup.push(() => client.close());
    const res = await new Promise<QueryResponse>((resolve, reject) =>
      client.instant({ query: 'up' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    assert.equal(res.resultType, ResultType.VECTOR);
    assert.deepEqual(
      res.series[0].labels.map((l) => `${l.name}=${l.value}`),
      ['__name__=up', `instance=127.0.0.1:${pharos.port}`, 'job=pharos'],
    );
    assert.equal(res.series[0].values[0], 1);
  });

  it('stores what pharos.v1.Ingester.Push sends, and Select returns it', async () => {
    const ingester = new IngesterGrpcClient(grpcAddress, undefined, 10_000);
    cleanup.push(() => ingester.close());
    const t = Date.now() - 1000;
    const b = new SampleBatchBuilder();
    b.push(labelsFrom({ __name__: 'pushed_over_grpc', source: 'e2e' }), t, 42);
    const r = await ingester.push(b.build());
    assert.equal(r.appended, 1);
    const got = await instantQuery(pharos.url, 'pushed_over_grpc');
    assert.equal(got[0].value[1], '42');
    const selected = await ingester.select(
      [new LabelMatcher('=', '__name__', 'pushed_over_grpc')],
      t - 1,
      t + 1,
    );
    assert.deepEqual([...selected[0].values], [42]);
  });

  it('refuses Push where no write path is enabled, and still serves reads', async () => {
    const port = await freePort();
    const readOnly = await startPharos(() => 'global: {scrape_interval: 1h}\n', {
      args: [`--grpc.listen-address=127.0.0.1:${port}`],
    });
    cleanup.push(() => readOnly.proc.stop());
    cleanup.push(() => removeDir(readOnly.dir));
    const ingester = new IngesterGrpcClient(`127.0.0.1:${port}`, undefined, 10_000);
    cleanup.push(() => ingester.close());
    const b = new SampleBatchBuilder();
    b.push(labelsFrom({ __name__: 'not_taken' }), Date.now(), 1);
    await assert.rejects(ingester.push(b.build()), /takes no writes over gRPC/);
    assert.deepEqual(await instantQuery(readOnly.url, 'not_taken'), []);
    assert.deepEqual(
      await ingester.select([new LabelMatcher('=', '__name__', 'not_taken')], 0, Infinity),
      [],
    );
  });
});
