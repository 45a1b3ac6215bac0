import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLabels, STALE_NAN } from '@pharos/model';
import { Engine, ParseError, QueryError, type QueryResult } from '../index.js';
import { MemoryQueryable } from '@pharos/tsdb';

const MIN = 60_000;

function counter(
  q: MemoryQueryable,
  labels: Record<string, string>,
  step: number,
  n: number,
  inc: number,
): void {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < n; i++) {
    ts.push(i * step);
    vs.push(i * inc);
  }
  q.add(labels, ts, vs);
}

// Values are rounded to 12 significant digits: float results are compared approximately, as the
// Prometheus test runner does.
function vectorRows(r: QueryResult): string[] {
  assert.equal(r.resultType, 'vector');
  return r.resultType === 'vector'
    ? r.result.map((s) => `${formatLabels(s.labels)} ${Number(s.v.toPrecision(12))}`).sort()
    : [];
}

describe('engine', () => {
  const q = new MemoryQueryable();
  counter(q, { __name__: 'http_requests_total', job: 'api', instance: 'a' }, 15_000, 41, 15);
  counter(q, { __name__: 'http_requests_total', job: 'api', instance: 'b' }, 15_000, 41, 30);
  counter(q, { __name__: 'http_requests_total', job: 'web', instance: 'c' }, 15_000, 41, 3);
  const engine = new Engine();

  it('selects with all four matcher types', async () => {
    const rows = vectorRows(
      await engine.instantQuery(q, 'http_requests_total{job=~"a.*", instance!="b", job!~"x"}', 10 * MIN),
    );
    assert.deepEqual(rows, ['http_requests_total{instance="a", job="api"} 600']);
  });

  it('computes rate with the extrapolation Prometheus uses', async () => {
    // 1 per second, samples exactly on the window edges: the left edge is excluded (left-open).
    const rows = vectorRows(
      await engine.instantQuery(q, 'rate(http_requests_total{instance="a"}[5m])', 10 * MIN),
    );
    assert.deepEqual(rows, ['{instance="a", job="api"} 1']);
  });

  it('sums by a label after rate', async () => {
    const rows = vectorRows(
      await engine.instantQuery(q, 'sum by (job) (rate(http_requests_total[5m]))', 10 * MIN),
    );
    assert.deepEqual(rows, ['{job="api"} 3', '{job="web"} 0.2']);
  });

  it('looks back 5m and stops at a staleness marker', async () => {
    const s = new MemoryQueryable();
    s.add({ __name__: 'g' }, [0, 60_000, 120_000], Float64Array.of(1, 2, STALE_NAN));
    s.add({ __name__: 'h' }, [0], [7]);
    assert.deepEqual(vectorRows(await engine.instantQuery(s, 'g', 119_999)), ['g 2']);
    assert.deepEqual(vectorRows(await engine.instantQuery(s, 'g', 120_000)), []);
    // The lookback window is left-open: a sample exactly 5m old is out.
    assert.deepEqual(vectorRows(await engine.instantQuery(s, 'h', 5 * MIN - 1)), ['h 7']);
    assert.deepEqual(vectorRows(await engine.instantQuery(s, 'h', 5 * MIN)), []);
  });

  it('answers range queries with one point per step', async () => {
    const r = await engine.rangeQuery(q, 'sum(http_requests_total{job="web"})', 0, 2 * MIN, 30_000);
    assert.equal(r.resultType, 'matrix');
    if (r.resultType !== 'matrix') return;
    assert.equal(r.result.length, 1);
    assert.deepEqual(Array.from(r.result[0].timestamps), [0, 30_000, 60_000, 90_000, 120_000]);
    assert.deepEqual(Array.from(r.result[0].values), [0, 6, 12, 18, 24]);
  });

  it('evaluates scalar arithmetic with precedence', async () => {
    const r = await engine.instantQuery(q, '-2 ^ 2 + 3 * 2', 0);
    assert.equal(r.resultType, 'scalar');
    assert.equal(r.resultType === 'scalar' ? r.v : NaN, 2);
    assert.deepEqual(r.annotations, { warnings: [], infos: [] });
  });

  it('reports parse errors with a position', async () => {
    await assert.rejects(
      engine.instantQuery(q, 'sum(rate(x[5m])', 0),
      (e: unknown) => e instanceof ParseError && /^1:\d+: parse error:/.test(e.message),
    );
    await assert.rejects(engine.instantQuery(q, '{job=~""}', 0), /at least one non-empty matcher/);
    await assert.rejects(
      engine.instantQuery(q, 'rate(x)', 0),
      /expected type range vector in call to function "rate", got instant vector/,
    );
  });

  it('refuses a range query over a range vector', async () => {
    await assert.rejects(
      engine.rangeQuery(q, 'x[5m]', 0, 60_000, 15_000),
      (e: unknown) => e instanceof QueryError && /range query/.test(e.message),
    );
  });

  it('stops a query that loads too many samples', async () => {
    const small = new Engine({ maxSamples: 10 });
    await assert.rejects(small.instantQuery(q, 'http_requests_total[10m]', 10 * MIN), /too many samples/);
  });

  it('stops a query that selects more series than --query.max-series, counting every selector', async () => {
    const [count] = vectorRows(await new Engine().instantQuery(q, 'count(http_requests_total)', 10 * MIN));
    const total = Number(count.split(' ')[1]);
    assert.ok(total > 1);
    const limited = new Engine({ maxSeries: total });
    await limited.instantQuery(q, 'sum(http_requests_total)', 10 * MIN);
    await assert.rejects(
      limited.instantQuery(
        q,
        'http_requests_total + on() group_left vector(1) + http_requests_total',
        10 * MIN,
      ),
      (e: unknown) =>
        e instanceof QueryError &&
        e.kind === 'too_many_series' &&
        e.message === `query selected more than the limit of ${total} series (--query.max-series)`,
    );
  });
});

describe('limitk and limit_ratio', () => {
  const q = new MemoryQueryable();
  for (let i = 0; i < 40; i++) q.add({ __name__: 'x', group: String(i % 2), i: String(i) }, [0], [i]);
  const engine = new Engine();
  const rows = async (expr: string) => vectorRows(await engine.instantQuery(q, expr, 0));

  it('limitk keeps k series of each group, unchanged', async () => {
    const got = await rows('limitk by (group) (3, x)');
    assert.equal(got.length, 6);
    assert.ok(got.every((r) => r.startsWith('x{')));
    assert.deepEqual(await rows('limitk(0, x)'), []);
    assert.equal((await rows('limitk(100, x)')).length, 40);
  });

  it('limit_ratio picks complementary sets for r and r - 1', async () => {
    const a = await rows('limit_ratio(0.3, x)');
    const b = await rows('limit_ratio(-0.7, x)');
    assert.ok(a.length > 0 && b.length > 0);
    assert.equal(a.length + b.length, 40);
    assert.deepEqual([...a, ...b].sort(), (await rows('x')).sort());
    assert.equal((await rows('limit_ratio(1, x)')).length, 40);
    const capped = await engine.instantQuery(q, 'limit_ratio(1.5, x)', 0);
    assert.deepEqual(capped.annotations.warnings, [
      'PromQL warning: ratio value should be between -1 and 1, got 1.5, capping to 1',
    ]);
  });

  it('refuses NaN parameters with the upstream messages', async () => {
    await assert.rejects(
      engine.instantQuery(q, 'limitk(NaN, nothing)', 0),
      /^Error: Parameter value is NaN$|Parameter value is NaN/,
    );
    await assert.rejects(engine.instantQuery(q, 'limit_ratio(NaN, nothing)', 0), /Ratio value is NaN/);
  });
});

describe('start timestamps', () => {
  const q = new MemoryQueryable();
  // Samples every 10 s from 10 s; the start time known for some, after the sample for one.
  q.add(
    { __name__: 'req_total', case: 'a' },
    [10_000, 20_000, 30_000, 40_000],
    [10, 20, 30, 40],
    [10_001, 0, 30_000, 39_999],
  );
  q.add({ __name__: 'plain_total' }, [10_000, 20_000], [1, 2]);
  const engine = new Engine();

  it('start_timestamp() reports the raw start time of the selected sample, 0 when unknown', async () => {
    const at = async (ms: number) =>
      vectorRows(await engine.instantQuery(q, 'start_timestamp(req_total)', ms));
    assert.deepEqual(await at(10_000), ['{case="a"} 10.001']);
    assert.deepEqual(await at(25_000), ['{case="a"} 0']);
    assert.deepEqual(await at(35_000), ['{case="a"} 30']);
    assert.deepEqual(await at(40_000), ['{case="a"} 39.999']);
    assert.deepEqual(vectorRows(await engine.instantQuery(q, 'start_timestamp(plain_total)', 20_000)), [
      '{} 0',
    ]);
  });

  it('start_timestamp() of a computed vector has no start times to report', async () => {
    assert.deepEqual(vectorRows(await engine.instantQuery(q, 'start_timestamp(req_total * 1)', 20_000)), []);
  });

  it('a start time after the previous sample counts as a reset', async () => {
    // 40 s: started at 39.999 s, after the 30 s sample: the counter restarted from 0.
    assert.deepEqual(vectorRows(await engine.instantQuery(q, 'resets(req_total[35s])', 40_000)), [
      '{case="a"} 1',
    ]);
    assert.deepEqual(vectorRows(await engine.instantQuery(q, 'irate(req_total[35s])', 40_000)), [
      '{case="a"} 4',
    ]);
    // A subquery's samples are computed: the reset is gone with the start times.
    assert.deepEqual(vectorRows(await engine.instantQuery(q, 'resets(req_total[35s:10s])', 40_000)), [
      '{case="a"} 0',
    ]);
  });
});

describe('scalar comparisons with bool', () => {
  const q = new MemoryQueryable();
  q.add({ __name__: 'node_memory_free_bytes', instance: 'a' }, [0], [4]);
  q.add({ __name__: 'node_memory_free_bytes', instance: 'b' }, [0], [8]);
  const engine = new Engine();
  // Evaluated at t = 100 s, so time() is 100. Each answer is what Prometheus 3 prints.
  const cases: Array<[string, number]> = [
    ['1 == bool 2', 0],
    ['1 == bool 1', 1],
    ['1 != bool 1', 0],
    ['1 != bool 2', 1],
    ['2 > bool 1', 1],
    ['1 > bool 2', 0],
    ['1 < bool 2', 1],
    ['2 < bool 1', 0],
    ['1 >= bool 1', 1],
    ['1 >= bool 2', 0],
    ['2 <= bool 1', 0],
    ['1 <= bool 1', 1],
    ['time() < bool 1', 0],
    ['1 >= bool time()', 0],
    ['time() == bool 100', 1],
    ['NaN == bool NaN', 0],
    ['NaN != bool NaN', 1],
    ['0 == bool -0', 1],
  ];
  for (const [expr, want] of cases) {
    it(`${expr} is ${want}`, async () => {
      const r = await engine.instantQuery(q, expr, 100_000);
      assert.equal(r.resultType, 'scalar');
      assert.equal(r.resultType === 'scalar' ? r.v : NaN, want);
    });
  }
  it('a range query of a scalar comparison follows time()', async () => {
    const r = await engine.rangeQuery(q, 'time() >= bool 60', 0, 120_000, 30_000);
    assert.equal(r.resultType, 'matrix');
    const points = r.resultType === 'matrix' ? [...r.result[0].values] : [];
    assert.deepEqual(points, [0, 0, 1, 1, 1]);
  });
});

describe('vector matching against a scalar', () => {
  const q = new MemoryQueryable();
  q.add({ __name__: 'node_memory_free_bytes', instance: 'a' }, [0], [4]);
  q.add({ __name__: 'node_memory_free_bytes', instance: 'b' }, [0], [8]);
  const engine = new Engine();
  // Prometheus 3 drops an empty on()/ignoring() and any group modifier beside a scalar.
  for (const expr of [
    'node_memory_free_bytes > on () group_left scalar(avg(node_memory_free_bytes))',
    'node_memory_free_bytes > ignoring () scalar(avg(node_memory_free_bytes))',
    'scalar(avg(node_memory_free_bytes)) < on () group_right node_memory_free_bytes',
    'node_memory_free_bytes > on () 5',
  ]) {
    it(`accepts ${expr}`, async () => {
      assert.deepEqual(vectorRows(await engine.instantQuery(q, expr, 60_000)), [
        'node_memory_free_bytes{instance="b"} 8',
      ]);
    });
  }
  for (const expr of [
    'node_memory_free_bytes > on (instance) scalar(avg(node_memory_free_bytes))',
    'node_memory_free_bytes > ignoring (instance) group_left 5',
    '1 + on (instance) 2',
  ]) {
    it(`refuses ${expr}`, async () => {
      await assert.rejects(
        engine.instantQuery(q, expr, 60_000),
        (e: unknown) =>
          e instanceof ParseError && /vector matching only allowed between instant vectors/.test(e.message),
      );
    });
  }
});

describe('expressions too deep to evaluate', () => {
  const engine = new Engine();
  const q = new MemoryQueryable();
  it('takes a flat chain 999 links deep and refuses 1000, however long the rest', async () => {
    const chain = (n: number) =>
      Array(n + 1)
        .fill('1')
        .join('+');
    const r = await engine.instantQuery(q, chain(999), 0);
    assert.equal(r.resultType === 'scalar' ? r.v : NaN, 1000);
    for (const n of [1000, 250_000]) {
      await assert.rejects(
        engine.instantQuery(q, chain(n), 0),
        (e: unknown) =>
          e instanceof ParseError && /expression nests more than 1000 levels deep/.test(e.message),
      );
    }
  });
  it('knows a long chain is a scalar from the node itself', async () => {
    const r = await engine.instantQuery(q, `${Array(900).fill('2').join('*')} > bool 1`, 0);
    assert.equal(r.resultType === 'scalar' ? r.v : NaN, 1);
  });
});
