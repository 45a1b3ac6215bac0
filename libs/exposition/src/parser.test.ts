import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatLabels, isStaleNaN } from '@pharos/model';
import {
  ExpositionError,
  ExpositionParser,
  formatGoFloat,
  formatOpenMetricsFloat,
  parseSampleValue,
  parseSimpleDecimal,
  type ExpositionFormat,
} from './index.js';

interface Row {
  series: string;
  value: number;
  ts: number | null;
}

function parseAll(text: string, format: ExpositionFormat = 'prometheus') {
  const p = new ExpositionParser(text, format);
  const series: Row[] = [];
  const meta: string[] = [];
  for (let e = p.next(); e !== null; e = p.next()) {
    if (e === 'series')
      series.push({ series: formatLabels(p.labels()), value: p.value(), ts: p.timestamp() });
    else if (e !== 'comment') meta.push(`${e} ${p.metadataName()} ${p.metadataText()}`);
  }
  return { series, meta };
}

describe('Prometheus text format 0.0.4', () => {
  it('parses the documented example', () => {
    const text = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="1"} 76656
rpc_duration_seconds_sum 1.7560473e+07
`;
    const { series, meta } = parseAll(text);
    assert.deepEqual(meta, [
      'help http_requests_total The total number of HTTP requests.',
      'type http_requests_total counter',
      'help http_request_duration_seconds A histogram of the request duration.',
      'type http_request_duration_seconds histogram',
      'type rpc_duration_seconds summary',
    ]);
    assert.deepEqual(series, [
      { series: 'http_requests_total{code="200", method="post"}', value: 1027, ts: 1395066363000 },
      { series: 'http_requests_total{code="400", method="post"}', value: 3, ts: 1395066363000 },
      {
        series:
          'msdos_file_access_time_seconds{error="Cannot find file:\\n\\"FILE.TXT\\"", path="C:\\\\DIR\\\\FILE.TXT"}',
        value: 1.458255915e9,
        ts: null,
      },
      { series: 'metric_without_timestamp_and_labels', value: 12.47, ts: null },
      { series: 'something_weird{problem="division by zero"}', value: Infinity, ts: -3982045 },
      // Prometheus 3 normalises le and quantile values to their float form.
      { series: 'http_request_duration_seconds_bucket{le="0.05"}', value: 24054, ts: null },
      { series: 'http_request_duration_seconds_bucket{le="1.0"}', value: 133988, ts: null },
      { series: 'http_request_duration_seconds_bucket{le="+Inf"}', value: 144320, ts: null },
      { series: 'http_request_duration_seconds_sum', value: 53423, ts: null },
      { series: 'http_request_duration_seconds_count', value: 144320, ts: null },
      { series: 'rpc_duration_seconds{quantile="0.01"}', value: 3102, ts: null },
      { series: 'rpc_duration_seconds{quantile="1.0"}', value: 76656, ts: null },
      { series: 'rpc_duration_seconds_sum', value: 1.7560473e7, ts: null },
    ]);
  });

  it('accepts NaN and Inf spellings, trailing commas and UTF-8 quoted names', () => {
    const { series } = parseAll(
      'a NaN\nb -Inf\nc{x="1",} inf\n{"my.metric", "some.label"="v"} 2\nd{} 1e-3\n',
    );
    assert.equal(series[0].series, 'a');
    assert.ok(Number.isNaN(series[0].value));
    assert.equal(series[1].value, -Infinity);
    assert.equal(series[2].series, 'c{x="1"}');
    assert.equal(series[3].series, '{"my.metric", "some.label"="v"}');
    assert.equal(series[4].value, 0.001);
  });

  it('keeps the raw series text as a cache key', () => {
    const p = new ExpositionParser('x{a="1", b="2"} 5\n');
    assert.equal(p.next(), 'series');
    assert.equal(p.seriesText(), 'x{a="1", b="2"}');
    assert.equal(p.metricName(), 'x');
  });

  const bad: Array<[string, number, RegExp]> = [
    ['ok 1\nbad{a="1" 2\n', 2, /expected "," or "}"/],
    ['x{a=1} 1\n', 1, /quoted value/],
    ['x 1 2 3\n', 1, /unexpected text/],
    ['x abc\n', 1, /invalid value/],
    ['x 1 1.5\n', 1, /invalid timestamp/],
    ['x{a="1",a="2"} 1\n', 1, /duplicate label name/],
    ['# TYPE x nonsense\n', 1, /invalid metric type/],
    ['x{a="unterminated} 1\n', 1, /unterminated/],
    ['{} 1\n', 1, /metric name missing/],
    ['9x 1\n', 1, /invalid metric name/],
  ];
  for (const [text, line, re] of bad) {
    it(`rejects ${JSON.stringify(text)} at line ${line}`, () => {
      assert.throws(
        () => parseAll(text),
        (e: unknown) => e instanceof ExpositionError && e.line === line && re.test(e.message),
      );
    });
  }
});

describe('OpenMetrics 1.0 text', () => {
  it('parses types, units, timestamps in seconds and exemplars', () => {
    const text = `# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
# TYPE foo histogram
foo_bucket{le="0.01"} 0
foo_bucket{le="1"} 11 # {trace_id="KOO5S4vxi0o"} 0.67 1520879607.789
foo_bucket{le="+Inf"} 17 1520879607.789
# EOF
`;
    const p = new ExpositionParser(text, 'openmetrics');
    const rows: string[] = [];
    for (let e = p.next(); e !== null; e = p.next()) {
      if (e === 'series') {
        const ex = p.exemplar();
        rows.push(
          `${formatLabels(p.labels())} ${p.value()} ${p.timestamp()}${ex ? ` ex=${formatLabels(ex.labels)}:${ex.value}@${ex.timestamp}` : ''}`,
        );
      } else rows.push(`${e}:${p.metadataName()}:${p.metadataText()}`);
    }
    assert.deepEqual(rows, [
      'type:acme_http_router_request_seconds:summary',
      'unit:acme_http_router_request_seconds:seconds',
      "help:acme_http_router_request_seconds:Latency though all of ACME's HTTP request router.",
      'acme_http_router_request_seconds_sum{method="GET", path="/api/v1"} 9036.32 null',
      'acme_http_router_request_seconds_count{method="GET", path="/api/v1"} 807283 null',
      'type:foo:histogram',
      'foo_bucket{le="0.01"} 0 null',
      'foo_bucket{le="1.0"} 11 null ex={trace_id="KOO5S4vxi0o"}:0.67@1520879607789',
      'foo_bucket{le="+Inf"} 17 1520879607789',
    ]);
  });

  const bad: Array<[string, RegExp]> = [
    ['a 1\n', /# EOF/],
    ['a 1\n# EOF\nb 2\n', /after "# EOF"/],
    ['# random comment\n# EOF\n', /invalid metadata line/],
    ['a 1\n\n# EOF\n', /empty line/],
    ['a{x="\\t"} 1\n# EOF\n', /invalid escape/],
  ];
  for (const [text, re] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => assert.throws(() => parseAll(text, 'openmetrics'), re));
  }
});

describe('predicted series', () => {
  it('skips re-reading a label set only when the line starts with the whole predicted series', () => {
    const text = 'm{a="x y"} 1\nm{a="x y",b="2"} 2\nm{a="x y"}z 3\nm{a="x y"}\t4\n';
    const cases: Array<[string | undefined, boolean, string]> = [
      ['m{a="x y"}', true, 'm{a="x y"}'],
      ['m{a="x y"}', false, 'm{a="x y",b="2"}'],
      ['m{a="x y"}', false, ''], // "z" after the series: an error, as without a prediction
      ['m{a="x y"}', true, 'm{a="x y"}'],
    ];
    const p = new ExpositionParser(text);
    for (const [predicted, matched, series] of cases) {
      if (series === '') {
        assert.throws(() => p.next(predicted), ExpositionError);
        continue;
      }
      assert.equal(p.next(predicted), 'series');
      assert.equal(p.matchedPrediction, matched);
      assert.equal(p.seriesText(), series);
      assert.equal(formatLabels(p.labels()).replace(/, /g, ','), series);
    }
  });

  it('still knows the name and family of a predicted series, bare, with labels or quoted', () => {
    const text = '# TYPE up gauge\nup 1\n# TYPE m_total counter\nm_total{a="b"} 2\n{"my.metric",a="b"} 3\n';
    const p = new ExpositionParser(text);
    for (const [predicted, name, type] of [
      ['up', 'up', 'gauge'],
      ['m_total{a="b"}', 'm_total', 'counter'],
      ['{"my.metric",a="b"}', 'my.metric', 'unknown'],
    ]) {
      while (p.next(predicted) !== 'series');
      assert.equal(p.matchedPrediction, true);
      assert.equal(p.metricName(), name);
      assert.equal(p.currentType(), type);
    }
  });
});

describe('values', () => {
  it('reads plain decimals in place exactly as Number() does, and leaves the rest to the full parser', () => {
    const decimal = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^[0-9]{0,17}$/),
        fc.constantFrom('', '.'),
        fc.stringMatching(/^[0-9]{0,17}$/),
      )
      .map(([sign, a, dot, b]) => sign + a + dot + (dot ? b : ''));
    fc.assert(
      fc.property(decimal, (text) => {
        const fast = parseSimpleDecimal(`x${text}y`, 1, text.length + 1);
        const full = parseSampleValue(text);
        if (fast === fast) assert.ok(Object.is(fast, full), `${text}: ${fast} vs ${full}`);
      }),
      { numRuns: 5000 },
    );
    for (const [text, expected] of [
      ['0.1', 0.1],
      ['-0', -0],
      ['1.', 1],
      ['.5', 0.5],
      ['123456789012345', 123456789012345],
    ] as const)
      assert.ok(Object.is(parseSimpleDecimal(text, 0, text.length), expected), text);
    for (const text of ['', '.', '-', '1e3', 'NaN', '+Inf', '1234567890123456', '1.2.3', '0x10'])
      assert.ok(Number.isNaN(parseSimpleDecimal(text, 0, text.length)), text);
  });

  it('carries the staleness NaN unchanged through a Float64Array', async () => {
    const { STALE_NAN } = await import('@pharos/model');
    const arr = new Float64Array(1);
    arr[0] = STALE_NAN;
    assert.ok(isStaleNaN(arr[0]));
    assert.ok(!isStaleNaN(NaN));
  });
});

describe('float formatting as Go writes it', () => {
  const rows: Array<[number, string, string]> = [
    [1, '1', '1.0'],
    [0, '0', '0.0'],
    [1.5, '1.5', '1.5'],
    [1e6, '1e+06', '1e+06'],
    [1234567, '1.234567e+06', '1.234567e+06'],
    [123456, '123456', '123456.0'],
    [0.0001, '0.0001', '0.0001'],
    [0.00001, '1e-05', '1e-05'],
    [-Infinity, '-Inf', '-Inf'],
    [NaN, 'NaN', 'NaN'],
  ];
  for (const [v, g, om] of rows) {
    it(`${v}: ${g} / ${om}`, () => {
      assert.equal(formatGoFloat(v), g);
      assert.equal(formatOpenMetricsFloat(v), om);
    });
  }
});
