import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anchoredRegex, AnchoredRegex, expandTemplate } from './index.js';

describe('AnchoredRegex', () => {
  const rows: Array<[string, string, boolean]> = [
    ['foo', 'foo', true],
    ['foo', 'foobar', false],
    ['fo.', 'foo', true],
    ['a|b', 'b', true],
    ['a|b', 'ab', false],
    ['.*', '', true],
    ['.+', '', false],
    ['a.b', 'a\nb', true], // Prometheus 3: dot matches newline
    ['(?i)FOO', 'foo', true],
    ['api/v1', 'api/v1', true],
    ['5..', '503', true],
    // Fast-path shapes must agree with RE2 on the edges.
    ['api|web|db', 'web', true],
    ['api|web|db', 'api|web', false],
    ['api|', '', true],
    ['/api.*', '/api/v1\nx', true],
    ['/api.*', 'x/api', false],
    ['.*_total', 'http_total', true],
    ['.*_total', 'http_total_x', false],
    ['.*err.*', 'an error', true],
    ['.*err.*', 'ERR', false],
    ['foo\\.*', 'foo...', true],
    ['foo\\.*', 'foox', false],
    ['.*.*', 'x', true],
    ['.+', '\n', true],
  ];
  for (const [re, s, want] of rows) {
    it(`${re} ~ ${JSON.stringify(s)} = ${want}`, () => assert.equal(anchoredRegex(re).matches(s), want));
  }

  it('rejects syntax RE2 does not have, with the Go wording', () => {
    assert.throws(() => new AnchoredRegex('a(?=b)'), /invalid or unsupported Perl syntax/);
    assert.throws(() => new AnchoredRegex('(a'), /missing closing \)/);
  });

  it('stays linear on a pattern that makes backtracking engines explode', () => {
    const re = new AnchoredRegex('(a+)+b');
    assert.equal(re.matches('a'.repeat(5000)), false);
  });

  it('lists the values of a literal alternation for index lookups', () => {
    assert.deepEqual(anchoredRegex('a|b|c').setMatches(), ['a', 'b', 'c']);
    assert.deepEqual(anchoredRegex('solo').setMatches(), ['solo']);
    assert.equal(anchoredRegex('a.*').setMatches(), undefined);
    assert.equal(anchoredRegex('(a|b)').setMatches(), undefined);
  });

  it('gives submatches', () => {
    assert.deepEqual(new AnchoredRegex('(.*):(\\d+)').exec('host:80'), ['host:80', 'host', '80']);
  });
});

describe('expandTemplate', () => {
  const groups = ['host:80', 'host', '80'];
  const rows: Array<[string, string]> = [
    ['$1', 'host'],
    ['${1}:${2}', 'host:80'],
    ['$1x', ''], // Go reads this as the group named "1x"
    ['${1}x', 'hostx'],
    ['$$1', '$1'],
    ['$9', ''],
    ['plain', 'plain'],
  ];
  for (const [t, want] of rows)
    it(`${t} -> ${JSON.stringify(want)}`, () => assert.equal(expandTemplate(t, groups), want));
});
