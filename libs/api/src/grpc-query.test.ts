import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { Engine } from '@pharos/promql';
import {
  QueryClient,
  ResultType,
  type InstantQueryRequest,
  type LabelNamesResponse,
  type LabelsQueryRequest,
  type LabelValuesQueryRequest,
  type LabelValuesResponse,
  type QueryResponse,
  type RangeQueryRequest,
  type SeriesQueryRequest,
  type SeriesResponse,
} from '@pharos/proto';
import { MemoryQueryable } from '@pharos/tsdb';
import { addQueryService } from './index.js';

describe('pharos.v1.Query over loopback', () => {
  const server = new Server();
  let client: InstanceType<typeof QueryClient>;

  before(async () => {
    const q = new MemoryQueryable();
    const ts = Array.from({ length: 61 }, (_, i) => i * 10_000);
    q.add(
      { __name__: 'req_total', job: 'a' },
      ts,
      ts.map((t) => t / 1000),
    );
    q.add(
      { __name__: 'req_total', job: 'b' },
      ts,
      ts.map((t) => t / 500),
    );
    addQueryService(server, { queryable: q, engine: new Engine({ timeout: 5_000 }) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    client = new QueryClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  // Promise wrappers, as a client application would write them.
  const done =
    <T>(resolve: (v: T) => void, reject: (e: ServiceError) => void) =>
    (e: ServiceError | null, r: T) =>
      e ? reject(e) : resolve(r);
  const instantQuery = (req: InstantQueryRequest) =>
    new Promise<QueryResponse>((res, rej) => client.instant(req, done(res, rej)));
  const rangeQuery = (req: RangeQueryRequest) =>
    new Promise<QueryResponse>((res, rej) => client.range(req, done(res, rej)));
  const seriesQuery = (req: SeriesQueryRequest) =>
    new Promise<SeriesResponse>((res, rej) => client.series(req, done(res, rej)));
  const labelNames = (req: LabelsQueryRequest) =>
    new Promise<LabelNamesResponse>((res, rej) => client.labelNames(req, done(res, rej)));
  const labelValues = (req: LabelValuesQueryRequest) =>
    new Promise<LabelValuesResponse>((res, rej) => client.labelValues(req, done(res, rej)));

  it('evaluates instant and range queries', async () => {
    const inst = await instantQuery({ query: 'sum(rate(req_total[1m]))', timeMs: 300_000 });
    assert.equal(inst.resultType, ResultType.VECTOR);
    assert.equal(inst.series.length, 1);
    assert.ok(Math.abs(inst.series[0].values[0] - 3) < 1e-9);
    const range = await rangeQuery({
      query: 'req_total{job="a"}',
      startMs: 0,
      endMs: 60_000,
      stepMs: 30_000,
    });
    assert.equal(range.resultType, ResultType.MATRIX);
    assert.deepEqual(range.series[0].timestampsMs, [0, 30_000, 60_000]);
    assert.deepEqual(range.series[0].values, [0, 30, 60]);
    const scalar = await instantQuery({ query: '1 + 1', timeMs: 0 });
    assert.equal(scalar.resultType, ResultType.SCALAR);
    assert.equal(scalar.scalar, 2);
  });

  it('answers series, label names and values', async () => {
    assert.equal((await seriesQuery({ match: ['req_total'] })).series.length, 2);
    assert.deepEqual((await labelNames({ match: [] })).names, ['__name__', 'job']);
    assert.deepEqual((await labelValues({ name: 'job', match: ['{job="b"}'] })).values, ['b']);
  });

  it('maps bad queries to INVALID_ARGUMENT with the parser message', async () => {
    await assert.rejects(instantQuery({ query: 'sum(' }), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(e.details, /^1:5: parse error:/);
      return true;
    });
    await assert.rejects(rangeQuery({ query: 'up', startMs: 0, endMs: 1, stepMs: 0 }), /step widths/);
  });
});
