import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseExpr } from './parser.js';
import { exprToJson, formatExpr, prettyExpr } from './printer.js';
import { TESTDATA_DIR, testFiles } from '../promqltest/conformance.js';
import { parseTestFile } from '../promqltest/testfile.js';

describe('formatExpr', () => {
  // Expected strings are what Prometheus' Expr.String() prints for the same input.
  const rows: Array<[string, string]> = [
    [
      'sum by(job)(rate(http_requests_total{code=~"5.."}[5m]))',
      'sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))',
    ],
    ['foo offset 5m', 'foo offset 5m'],
    ['foo[5m] offset -1h30m', 'foo[5m] offset -1h30m'],
    ['foo @ 100', 'foo @ 100.000'],
    ['foo @ start()', 'foo @ start()'],
    ['a + on(x) group_left(y) b', 'a + on (x) group_left (y) b'],
    ['a > bool ignoring(z) b', 'a > bool ignoring (z) b'],
    ['a and on() b', 'a and on () b'],
    ['topk(5, foo)', 'topk(5, foo)'],
    ['sum without(instance)(foo)', 'sum without (instance) (foo)'],
    ['-foo', '-foo'],
    ['rate(foo[1h:5m])', 'rate(foo[1h:5m])'],
    ['max_over_time(foo[1h:])', 'max_over_time(foo[1h:])'],
    ['{"foo.bar", a="b"}', '{"foo.bar", a="b"}'],
    ['{__name__=~"a|b"}', '{__name__=~"a|b"}'],
    ['label_replace(up, "x", "$1", "job", "(.*)")', 'label_replace(up, "x", "$1", "job", "(.*)")'],
    ['1 + 2 * 3', '1 + 2 * 3'],
    ['(1 + 2) * 3', '(1 + 2) * 3'],
    ['foo{a="with \\"quote\\" and \\\\"}', 'foo{a="with \\"quote\\" and \\\\"}'],
    ['Inf', 'Inf'],
  ];
  for (const [input, want] of rows) it(input, () => assert.equal(formatExpr(parseExpr(input)), want));

  it(
    'prints every expression of the upstream test files so that it parses back to itself',
    {
      skip: TESTDATA_DIR === undefined ? 'no ../shared/promql-testdata' : false,
    },
    () => {
      let n = 0;
      for (const file of testFiles()) {
        for (const cmd of parseTestFile(readFileSync(`${TESTDATA_DIR}/${file}`, 'utf8'))) {
          if (cmd.kind !== 'eval') continue;
          let parsed;
          try {
            parsed = parseExpr(cmd.expr);
          } catch {
            continue;
          }
          const once = formatExpr(parsed);
          assert.equal(formatExpr(parseExpr(once)), once, `${file}:${cmd.line}: ${cmd.expr}`);
          assert.deepEqual(
            exprToJson(parseExpr(prettyExpr(parsed))),
            exprToJson(parsed),
            `${file}:${cmd.line}`,
          );
          n++;
        }
      }
      assert.ok(n > 1500, `only ${n} expressions checked`);
    },
  );
});

describe('prettyExpr', () => {
  it('keeps short expressions on one line and splits long ones as format_query does', () => {
    assert.equal(prettyExpr(parseExpr('sum(rate(x[5m]))')), 'sum(rate(x[5m]))');
    const long =
      'sum by (job, instance) (rate(http_requests_total{code=~"5..", handler!="/metrics"}[5m])) / sum by (job, instance) (rate(http_requests_total[5m]))';
    assert.equal(
      prettyExpr(parseExpr(long)),
      [
        '  sum by (job, instance) (rate(http_requests_total{code=~"5..", handler!="/metrics"}[5m]))',
        '/',
        '  sum by (job, instance) (rate(http_requests_total[5m]))',
      ].join('\n'),
    );
  });
});
