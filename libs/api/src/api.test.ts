import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parsePrometheusConfig } from '@pharos/config';
import { Engine } from '@pharos/promql';
import { emptyAppendResult, MemoryQueryable } from '@pharos/tsdb';
import { FloatHistogram, formatLabels, LabelMatcher, labelsFrom, SampleBatchBuilder } from '@pharos/model';
import {
  decodeReadResponse,
  encodeReadRequest,
  encodeWriteRequest,
  snappyDecode,
  snappyEncode,
} from '@pharos/remote';
import { rawWriteRequest, type RawSeries } from '@pharos/remote/testing';
import { createApiServer, decodeLabelName } from './index.js';

let app: FastifyInstance;
let ready = true;

before(async () => {
  const q = new MemoryQueryable();
  const ts = Array.from({ length: 61 }, (_, i) => i * 10_000);
  q.add(
    { __name__: 'up', job: 'a', instance: 'x:1' },
    ts,
    ts.map(() => 1),
  );
  q.add(
    { __name__: 'up', job: 'b', instance: 'y:1' },
    ts,
    ts.map(() => 0),
  );
  q.add(
    { __name__: 'req_total', job: 'a' },
    ts,
    ts.map((t) => t / 1000),
  );
  // A native histogram: 1 observation in (0.5,1], 2 in (1,2], 1 in the zero bucket, 1 in [-1,-0.5).
  const h = new FloatHistogram({
    count: 5,
    sum: 3.5,
    zeroThreshold: 0.001,
    zeroCount: 1,
    positive: { idx: [0, 1], cnt: [1, 2] },
    negative: { idx: [0], cnt: [1] },
  });
  q.add({ __name__: 'latency_seconds' }, [0, 10_000], [0, 0], undefined, [h, h]);
  app = await createApiServer({
    queryable: q,
    engine: new Engine({ timeout: 5_000 }),
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    config: () => parsePrometheusConfig('global:\n  scrape_interval: 15s\n'),
    flags: { 'config.file': 'prometheus.yml' },
    ready: () => ready,
    startTime: new Date(0),
    tsdbStatus: () => ({
      numSeries: 3,
      chunkCount: 3,
      minTime: 0,
      maxTime: 600_000,
      pairs: [
        ['__name__', 'up', 2],
        ['__name__', 'req_total', 1],
        ['job', 'a', 2],
        ['job', 'b', 1],
        ['instance', 'x:1', 1],
        ['instance', 'y:1', 1],
      ],
    }),
  });
});
after(() => app.close());

async function get(url: string) {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as Record<string, unknown>, type: r.headers['content-type'] };
}

describe('query API', () => {
  it('answers an instant vector query in the Prometheus shape', async () => {
    const r = await get('/api/v1/query?query=up{job="a"}&time=300');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.deepEqual(r.body, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { __name__: 'up', instance: 'x:1', job: 'a' }, value: [300, '1'] }],
      },
    });
  });

  it('writes native histograms with their buckets and boundary rules, as Prometheus', async () => {
    const want = {
      count: '5',
      sum: '3.5',
      buckets: [
        [1, '-1', '-0.5', '1'],
        [3, '-0.001', '0.001', '1'],
        [0, '0.5', '1', '1'],
        [0, '1', '2', '2'],
      ],
    };
    const instant = await get('/api/v1/query?query=latency_seconds&time=10');
    assert.deepEqual(instant.body.data, {
      resultType: 'vector',
      result: [{ metric: { __name__: 'latency_seconds' }, histogram: [10, want] }],
    });
    const range = await get('/api/v1/query_range?query=latency_seconds&start=0&end=10&step=10');
    assert.deepEqual(range.body.data, {
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'latency_seconds' },
          histograms: [
            [0, want],
            [10, want],
          ],
        },
      ],
    });
    const count = await get('/api/v1/query?query=histogram_count(latency_seconds)&time=10');
    assert.deepEqual(count.body.data, { resultType: 'vector', result: [{ metric: {}, value: [10, '5'] }] });
  });

  it('accepts RFC 3339 times and form POSTs as Grafana sends them', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/query',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'query=sum(up)&time=1970-01-01T00:05:00Z',
    });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().data, { resultType: 'vector', result: [{ metric: {}, value: [300, '1'] }] });
  });

  it('returns warnings and infos beside the data, as Prometheus', async () => {
    const w = await get('/api/v1/query?query=quantile(2, up)&time=300');
    assert.equal(w.status, 200);
    assert.deepEqual(w.body.warnings, ['PromQL warning: quantile value should be between 0 and 1, got 2']);
    const i = await get('/api/v1/query?query=rate(up[1m])&time=300');
    assert.deepEqual(i.body.infos, [
      'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "up"',
    ]);
    const none = await get('/api/v1/query?query=rate(req_total[1m])&time=300');
    assert.equal(none.body.infos, undefined);
    assert.equal(none.body.warnings, undefined);
  });

  it('adds stats when asked, inside data, as Prometheus', async () => {
    const r = await get('/api/v1/query?query=up&time=300&stats=all');
    const stats = (r.body.data as { stats: { samples: { totalQueryableSamples: number }; timings: object } })
      .stats;
    assert.ok(stats.samples.totalQueryableSamples > 0);
    assert.ok('evalTotalTime' in stats.timings);
    const plain = await get('/api/v1/query?query=up&time=300');
    assert.equal((plain.body.data as { stats?: unknown }).stats, undefined);
  });

  it('formats and parses queries', async () => {
    const f = await get('/api/v1/format_query?query=sum by(job)(rate(x{a="b"}[5m]))');
    assert.deepEqual(f.body, { status: 'success', data: 'sum by (job) (rate(x{a="b"}[5m]))' });
    const bad = await get('/api/v1/format_query?query=sum(');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errorType, 'bad_data');
    const p = await get('/api/v1/parse_query?query=up offset 5m');
    assert.deepEqual(p.body.data, {
      type: 'vectorSelector',
      name: 'up',
      matchers: [{ type: '=', name: '__name__', value: 'up' }],
      offset: 300_000,
      timestamp: null,
      startOrEnd: null,
    });
  });

  it('answers query_exemplars with none, after validating the query', async () => {
    assert.deepEqual((await get('/api/v1/query_exemplars?query=up&start=0&end=600')).body, {
      status: 'success',
      data: [],
    });
    assert.equal((await get('/api/v1/query_exemplars?query=up{')).status, 400);
    assert.equal((await get('/api/v1/query_exemplars?query=up&start=600&end=0')).status, 400);
  });

  it('reports TSDB cardinality as /api/v1/status/tsdb', async () => {
    const r = await get('/api/v1/status/tsdb?limit=1');
    assert.deepEqual(r.body.data, {
      headStats: { numSeries: 3, numLabelPairs: 6, chunkCount: 3, minTime: 0, maxTime: 600_000 },
      seriesCountByMetricName: [{ name: 'up', value: 2 }],
      labelValueCountByLabelName: [{ name: '__name__', value: 2 }],
      memoryInBytesByLabelName: [{ name: '__name__', value: 11 }],
      seriesCountByLabelValuePair: [{ name: '__name__=up', value: 2 }],
    });
    assert.equal((await get('/api/v1/status/tsdb?limit=x')).status, 400);
  });

  it('federates the newest sample of each matching series in the text format', async () => {
    const r = await app.inject({ url: '/federate?match[]=up&match[]={job="a",__name__=~"req.*"}' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    // The test data ends at 600 s; "now" is long after, past the lookback delta: nothing.
    assert.equal(r.body, '');
    const bad = await app.inject({ url: '/federate?match[]=up{' });
    assert.equal(bad.statusCode, 400);
  });

  it('answers scalars and strings', async () => {
    assert.deepEqual((await get('/api/v1/query?query=1%2B1&time=10.5')).body.data, {
      resultType: 'scalar',
      result: [10.5, '2'],
    });
    assert.deepEqual((await get('/api/v1/query?query="hi"&time=1')).body.data, {
      resultType: 'string',
      result: [1, 'hi'],
    });
    assert.deepEqual((await get('/api/v1/query?query=1/0&time=1')).body.data, {
      resultType: 'scalar',
      result: [1, '+Inf'],
    });
  });

  it('answers a range vector for an instant query over a range selector', async () => {
    const r = await get('/api/v1/query?query=req_total[30s]&time=300');
    assert.deepEqual(r.body.data, {
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'req_total', job: 'a' },
          values: [
            [280, '280'],
            [290, '290'],
            [300, '300'],
          ],
        },
      ],
    });
  });

  it('answers query_range as a matrix', async () => {
    const r = await get('/api/v1/query_range?query=rate(req_total[1m])&start=120&end=180&step=30s');
    assert.deepEqual(r.body.data, {
      resultType: 'matrix',
      result: [
        {
          metric: { job: 'a' },
          values: [
            [120, '1'],
            [150, '1'],
            [180, '1'],
          ],
        },
      ],
    });
  });

  const errors: Array<[string, number, string, RegExp]> = [
    ['/api/v1/query', 400, 'bad_data', /query must be provided/],
    ['/api/v1/query?query=sum(', 400, 'bad_data', /^1:5: parse error: /],
    [
      '/api/v1/query?query=up&time=yesterday',
      400,
      'bad_data',
      /cannot parse "yesterday" to a valid timestamp/,
    ],
    [
      '/api/v1/query_range?query=up&start=10&end=5&step=1',
      400,
      'bad_data',
      /end timestamp must not be before start time/,
    ],
    [
      '/api/v1/query_range?query=up&start=0&end=10&step=0',
      400,
      'bad_data',
      /zero or negative query resolution step/,
    ],
    [
      '/api/v1/query_range?query=up&start=0&end=100000&step=1',
      400,
      'bad_data',
      /exceeded maximum resolution of 11,000 points/,
    ],
    [
      '/api/v1/query_range?query=up[5m]&start=0&end=10&step=1',
      422,
      'execution',
      /invalid expression type "range vector" for range query/,
    ],
    [
      '/api/v1/query?query=label_replace(up,"x","y","job","(")',
      422,
      'execution',
      /invalid regular expression in label_replace/,
    ],
    ['/api/v1/series', 400, 'bad_data', /no match\[\] parameter provided/],
    ['/api/v1/nope', 404, 'not_found', /not found/],
  ];
  for (const [url, status, type, re] of errors) {
    it(`${url} -> ${status} ${type}`, async () => {
      const r = await get(url);
      assert.equal(r.status, status);
      assert.equal(r.body.status, 'error');
      assert.equal(r.body.errorType, type);
      assert.match(String(r.body.error), re);
    });
  }
});

describe('metadata API', () => {
  it('lists label names and values, optionally by match[]', async () => {
    assert.deepEqual((await get('/api/v1/labels')).body.data, ['__name__', 'instance', 'job']);
    assert.deepEqual((await get('/api/v1/labels?match[]=req_total')).body.data, ['__name__', 'job']);
    assert.deepEqual((await get('/api/v1/label/job/values')).body.data, ['a', 'b']);
    assert.deepEqual((await get('/api/v1/label/__name__/values?limit=1')).body.data, ['latency_seconds']);
    assert.deepEqual((await get('/api/v1/label/instance/values?match[]=up{job="b"}')).body.data, ['y:1']);
  });

  it('lists series for several match[] without duplicates', async () => {
    const r = await get('/api/v1/series?match[]=up&match[]={job="a"}');
    assert.deepEqual(r.body.data, [
      { __name__: 'req_total', job: 'a' },
      { __name__: 'up', instance: 'x:1', job: 'a' },
      { __name__: 'up', instance: 'y:1', job: 'b' },
    ]);
  });

  it('decodes U__ escaped UTF-8 label names', () => {
    assert.equal(decodeLabelName('U__http_2e_status'), 'http.status');
    assert.equal(decodeLabelName('U__a__b'), 'a_b');
    assert.equal(decodeLabelName('plain'), 'plain');
  });
});

describe('status and operations', () => {
  it('serves build info, config and flags', async () => {
    const b = (await get('/api/v1/status/buildinfo')).body.data as Record<string, string>;
    assert.equal(b.version, '0.1.0');
    assert.deepEqual((await get('/api/v1/status/config')).body.data, {
      yaml: 'global:\n  scrape_interval: 15s\n',
    });
    assert.deepEqual((await get('/api/v1/status/flags')).body.data, { 'config.file': 'prometheus.yml' });
  });

  it('answers health and readiness, and refuses reload without the lifecycle flag', async () => {
    assert.equal((await app.inject('/-/healthy')).statusCode, 200);
    assert.equal((await app.inject('/-/ready')).statusCode, 200);
    ready = false;
    assert.equal((await app.inject('/-/ready')).statusCode, 503);
    ready = true;
    assert.equal((await app.inject({ method: 'POST', url: '/-/reload' })).statusCode, 403);
  });

  it('exposes its own metrics', async () => {
    await get('/api/v1/query?query=up');
    const r = await app.inject('/metrics');
    assert.match(r.body, /prometheus_http_requests_total\{handler="\/api\/v1\/query",code="200"\} \d+/);
  });
});

describe('remote write and read', () => {
  let remote: FastifyInstance;
  const store = new MemoryQueryable();
  let fail = false;

  before(async () => {
    remote = await createApiServer({
      queryable: store,
      engine: new Engine({ timeout: 5_000 }),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      config: () => parsePrometheusConfig(''),
      flags: {},
      ready: () => true,
      startTime: new Date(0),
      remoteWrite: async (batch) => {
        if (fail) throw new Error('bus is down');
        batch.series.forEach((labels, idx) => {
          const ts: number[] = [];
          const vs: number[] = [];
          batch.refs.forEach((r, i) => {
            if (r !== idx) return;
            ts.push(batch.timestamps[i]);
            vs.push(batch.values[i]);
          });
          store.add(labels, ts, vs);
        });
        return emptyAppendResult();
      },
      maxSamplesPerRequest: 3,
    });
  });
  after(() => remote.close());

  const write = (payload: Buffer | string, contentType = 'application/x-protobuf') =>
    remote.inject({
      method: 'POST',
      url: '/api/v1/write',
      headers: { 'content-type': contentType, 'content-encoding': 'snappy' },
      payload,
    });

  function body(): Buffer {
    const b = new SampleBatchBuilder();
    const s = b.addSeries(labelsFrom({ __name__: 'pushed_total', job: 'rw' }));
    b.add(s, 10_000, 1);
    b.add(s, 20_000, 2);
    return Buffer.from(snappyEncode(encodeWriteRequest(b.build())));
  }

  it('stores a snappy protobuf WriteRequest and answers 204', async () => {
    const r = await write(body());
    assert.equal(r.statusCode, 204);
    const q = await remote.inject({ url: '/api/v1/query?query=pushed_total&time=20' });
    assert.deepEqual(q.json().data.result, [
      { metric: { __name__: 'pushed_total', job: 'rw' }, value: [20, '2'] },
    ]);
  });

  it('answers 400 with the reason for a corrupt body and 503 when the write path is down', async () => {
    const r = await write(Buffer.from('not snappy at all'));
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /snappy/);
    fail = true;
    try {
      assert.equal((await write(body())).statusCode, 503);
    } finally {
      fail = false;
    }
    assert.equal((await write('x', 'text/plain')).statusCode, 415);
  });

  it('refuses a request over --remote-write.max-samples-per-request with 400, storing none of it', async () => {
    const b = new SampleBatchBuilder();
    const s = b.addSeries(labelsFrom({ __name__: 'too_many_total', job: 'rw' }));
    for (let i = 1; i <= 4; i++) b.add(s, i * 1000, i);
    const r = await write(Buffer.from(snappyEncode(encodeWriteRequest(b.build()))));
    assert.equal(r.statusCode, 400);
    assert.equal(r.body, 'too many samples in one request: 4, the limit is 3\n');
    const q = await remote.inject({ url: '/api/v1/query?query=too_many_total&time=4' });
    assert.deepEqual(q.json().data.result, []);
  });

  it('is off unless enabled, as in Prometheus', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/write',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: body(),
    });
    assert.equal(r.statusCode, 404);
    assert.match(r.body, /--web.enable-remote-write-receiver/);
  });

  it('serves remote read with sampled responses', async () => {
    const req = snappyEncode(
      encodeReadRequest([
        { startMs: 0, endMs: 15_000, matchers: [new LabelMatcher('=', '__name__', 'pushed_total')] },
      ]),
    );
    const r = await remote.inject({
      method: 'POST',
      url: '/api/v1/read',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
      payload: Buffer.from(req),
    });
    assert.equal(r.statusCode, 200);
    const [[series]] = decodeReadResponse(snappyDecode(r.rawPayload, 1 << 20));
    assert.deepEqual([...series.timestamps], [10_000]);
    assert.deepEqual([...series.values], [1]);
  });
});

describe('remote write receiver: what each request gets', () => {
  let rw: FastifyInstance;
  const store = new MemoryQueryable();
  /** What the write path says storage refused of the next batch. */
  let verdict = emptyAppendResult();
  let stored = 0;

  before(async () => {
    rw = await createApiServer({
      queryable: store,
      engine: new Engine({ timeout: 5_000 }),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      config: () => parsePrometheusConfig(''),
      flags: {},
      ready: () => true,
      startTime: new Date(0),
      remoteWrite: async (batch) => {
        stored += batch.refs.length;
        const r = verdict;
        verdict = emptyAppendResult();
        return r;
      },
    });
  });
  after(() => rw.close());

  const now = Date.now();
  const ok: RawSeries = [[['__name__', 'ok']], [[now, 1]]];
  const post = (payload: Uint8Array, headers: Record<string, string>) =>
    rw.inject({ method: 'POST', url: '/api/v1/write', headers, payload: Buffer.from(payload) });
  const v1 = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };

  // Status and body as Prometheus 3.16 (its remote write handler and client_golang's) answers,
  // except where noted: it answers 204 for an invalid series and drops it unseen; a 2xx for data
  // not stored is what Pharos never gives, so those are a 400 naming the series, none of it stored.
  const cases: Array<[string, Uint8Array, Record<string, string>, number, RegExp | string]> = [
    ['a valid request', rawWriteRequest([ok]), v1, 204, ''],
    ['no Content-Type (read as 1.0)', rawWriteRequest([ok]), { 'content-encoding': 'snappy' }, 204, ''],
    [
      'proto=prometheus.WriteRequest',
      rawWriteRequest([ok]),
      { ...v1, 'content-type': 'application/x-protobuf;proto=prometheus.WriteRequest' },
      204,
      '',
    ],
    [
      'labels out of order (sorted, stored)',
      rawWriteRequest([
        [
          [
            ['zz', '1'],
            ['__name__', 'i'],
          ],
          [[now, 1]],
        ],
      ]),
      v1,
      204,
      '',
    ],
    [
      'remote write 2.0, until it is stored',
      rawWriteRequest([ok]),
      { ...v1, 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' },
      415,
      'io.prometheus.write.v2.Request protobuf message is not accepted by this server; only accepts prometheus.WriteRequest\n',
    ],
    [
      'an unknown proto=',
      rawWriteRequest([ok]),
      { ...v1, 'content-type': 'application/x-protobuf;proto=foo.Bar' },
      415,
      'got application/x-protobuf;proto=foo.Bar content type; unknown type for remote write protobuf message foo.Bar, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request\n',
    ],
    [
      'JSON',
      rawWriteRequest([ok]),
      { ...v1, 'content-type': 'application/json' },
      415,
      'expected application/x-protobuf as the first (media) part, got application/json content-type\n',
    ],
    [
      'text/plain',
      rawWriteRequest([ok]),
      { ...v1, 'content-type': 'text/plain' },
      415,
      /expected application\/x-protobuf/,
    ],
    [
      'gzip',
      rawWriteRequest([ok]),
      { ...v1, 'content-encoding': 'gzip' },
      415,
      'gzip encoding (compression) is not accepted by this server; only snappy is acceptable\n',
    ],
    ['deflate', rawWriteRequest([ok]), { ...v1, 'content-encoding': 'deflate' }, 415, /deflate encoding/],
    ['zstd', rawWriteRequest([ok]), { ...v1, 'content-encoding': 'zstd' }, 415, /zstd encoding/],
    ['a body that is not snappy', Uint8Array.of(1, 2, 3, 4), v1, 400, /snappy/],
    [
      'a sample 16 days ahead, beside a valid one: none stored',
      rawWriteRequest([ok, [[['__name__', 'b']], [[now + 16 * 86_400_000, 1]]]]),
      v1,
      400,
      'out of bounds: timestamp is too far in the future for series b\n',
    ],
    [
      '11 minutes ahead',
      rawWriteRequest([[[['__name__', 'w']], [[now + 11 * 60_000, 1]]]]),
      v1,
      400,
      /too far in the future/,
    ],
    ['9 minutes ahead', rawWriteRequest([[[['__name__', 'v']], [[now + 9 * 60_000, 1]]]]), v1, 204, ''],
    // Prometheus: 204, the series dropped unseen.
    [
      'invalid UTF-8 in a label value',
      rawWriteRequest([
        ok,
        [
          [
            ['__name__', 'f'],
            ['x', Uint8Array.of(0x66, 0xff, 0x66)],
          ],
          [[now, 1]],
        ],
      ]),
      v1,
      400,
      'invalid labels {__name__="f", x="f\ufffdf"}: label names and values must be UTF-8\n',
    ],
    [
      'invalid UTF-8 in a metric name',
      rawWriteRequest([[[['__name__', Uint8Array.of(0x61, 0xc3)]], [[now, 1]]]]),
      v1,
      400,
      /must be UTF-8/,
    ],
    [
      'no metric name',
      rawWriteRequest([ok, [[['job', 'x']], [[now, 1]]]]),
      v1,
      400,
      /series has no metric name/,
    ],
    [
      'a repeated label name',
      rawWriteRequest([
        [
          [
            ['__name__', 'h'],
            ['a', '1'],
            ['a', '2'],
          ],
          [[now, 1]],
        ],
      ]),
      v1,
      400,
      /not sorted or not unique/,
    ],
    [
      'an empty label name',
      rawWriteRequest([
        [
          [
            ['__name__', 'j'],
            ['', 'v'],
          ],
          [[now, 1]],
        ],
      ]),
      v1,
      400,
      /invalid label name ""/,
    ],
  ];
  for (const [name, payload, headers, status, want] of cases) {
    it(`${name}: ${status}`, async () => {
      stored = 0;
      const r = await post(payload, headers);
      assert.equal(r.statusCode, status, r.body);
      if (typeof want === 'string') assert.equal(r.body, want);
      else assert.match(r.body, want);
      // A 4xx of the receiver's own stores nothing; what storage refused is the next test's.
      if (status !== 204) assert.equal(stored, 0);
    });
  }

  it('refuses a body that would decode past 32 MiB, as upstream, before decoding it', async () => {
    stored = 0;
    // 63 MiB of zeros compress to about 3 MiB: the preamble alone says it is too big.
    const bomb = snappyEncode(new Uint8Array(63 * 1024 * 1024));
    const r = await post(bomb, v1);
    assert.equal(r.statusCode, 400);
    assert.equal(
      r.body,
      `decompressed body of ${63 * 1024 * 1024} bytes exceeds the limit of ${32 * 1024 * 1024} bytes\n`,
    );
    assert.equal(stored, 0);
  });

  it('what storage refuses is a 400 in its words, saying the rest was stored', async () => {
    verdict = { ...emptyAppendResult(), outOfOrder: 1, firstError: 'out of order sample for series c' };
    const r = await post(rawWriteRequest([ok, [[['__name__', 'c']], [[now - 1000, 2]]]]), v1);
    assert.equal(r.statusCode, 400);
    assert.equal(r.body, 'out of order sample for series c (1 of 2 samples refused, the others stored)\n');
  });

  it('drops an empty label value, as upstream: a{x=""} is the series a', async () => {
    const got: string[] = [];
    const app = await createApiServer({
      queryable: store,
      engine: new Engine(),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      config: () => parsePrometheusConfig(''),
      flags: {},
      ready: () => true,
      startTime: new Date(0),
      remoteWrite: async (batch) => {
        got.push(...batch.series.map((l) => formatLabels(l)));
        return emptyAppendResult();
      },
    });
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/write',
      headers: v1,
      payload: Buffer.from(
        rawWriteRequest([
          [
            [
              ['__name__', 'j2'],
              ['x', ''],
            ],
            [[now, 1]],
          ],
        ]),
      ),
    });
    await app.close();
    assert.equal(r.statusCode, 204);
    assert.deepEqual(got, ['j2']);
  });
});
