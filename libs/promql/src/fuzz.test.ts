import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mutationsOf, syntaxSoup } from '@pharos/model/testing';
import { formatExpr, ParseError, parseExpr } from './index.js';

const SEEDS = [
  'sum by (job, instance) (rate(http_requests_total{job=~"api|web", code!="200"}[5m] offset 1m))',
  'histogram_quantile(0.9, sum without (pod) (rate(req_bucket[1m:10s] @ 1700000000)))',
  'a / on (x) group_left (y) b or vector(1) unless c > bool 2',
  'topk(3, -x ^ 2 % 3) and label_replace(up, "dst", "$1", "src", "(.*)")',
  '{"utf8.metric", "lé"="v"} + count_values("v", y)[10m:] ',
];

/** A parse either succeeds or fails with a ParseError; a success prints to text that parses the same. */
function check(input: string): void {
  let printed: string;
  try {
    printed = formatExpr(parseExpr(input));
  } catch (e) {
    assert.ok(e instanceof ParseError, `${String(e)} on ${JSON.stringify(input)}`);
    return;
  }
  let again: string;
  try {
    again = formatExpr(parseExpr(printed));
  } catch (e) {
    assert.fail(
      `${JSON.stringify(input)} printed as ${JSON.stringify(printed)}, which does not parse: ${String(e)}`,
    );
  }
  assert.equal(again, printed, `printing ${JSON.stringify(input)} is not stable`);
}

describe('PromQL parser under bad input', () => {
  it('edits of valid queries: a ParseError, or an expression that prints and reparses the same', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS).chain((s) => mutationsOf(s, 4)),
        check,
      ),
      { numRuns: 4000 },
    );
  });

  it('syntax soup: a ParseError or an expression', () => {
    fc.assert(fc.property(syntaxSoup, check), { numRuns: 4000 });
  });

  it('refuses deep nesting with a ParseError instead of overflowing the stack', () => {
    const deep = [
      '('.repeat(100_000) + '1' + ')'.repeat(100_000),
      '-'.repeat(100_000) + '1',
      'a' + ' + a'.repeat(50_000),
    ];
    for (const input of deep)
      assert.throws(() => parseExpr(input), /parse error: expression nests more than 1000 levels deep/);
    assert.equal(formatExpr(parseExpr('('.repeat(900) + '1' + ')'.repeat(900))).length, 1801);
  });
});
