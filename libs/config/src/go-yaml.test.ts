import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { GoYamlError, parseGoYaml } from './go-yaml.js';

/** The plain value go-yaml would hand a Go map[string]interface{}, for comparing. */
function plain(node: Node | null): unknown {
  if (node === null) return null;
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return node.items.map((n) => plain(n as Node));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const p of node.items) out[String(isScalar(p.key) ? p.key.value : p.key)] = plain(p.value as Node);
    return out;
  }
  throw new Error('unexpected node');
}

// Each expectation is what gopkg.in/yaml.v2 2.4.0 and yaml.v3 3.0.1 gave for the same text.
describe('YAML read as go-yaml reads it', () => {
  const cases: Array<[string, string, unknown]> = [
    [
      'a quoted scalar whose closing quote sits at its key',
      "groups:\n  - name: x\n    rules:\n      - record: a\n        expr: 'sum(\n          x)\n        '\n",
      { groups: [{ name: 'x', rules: [{ record: 'a', expr: 'sum( x) ' }] }] },
    ],
    ['a continuation line at the key', "a:\n  b: 'foo\n  bar'\n", { a: { b: 'foo bar' } }],
    ['a continuation line left of the key', "a:\n  b: 'foo\n bar'\n", { a: { b: 'foo bar' } }],
    ['double quotes', 'a:\n  b: "foo\n  bar"\n', { a: { b: 'foo bar' } }],
    ['a sequence entry', "a:\n  - 'foo\n  bar'\n", { a: ['foo bar'] }],
    [
      'a blank line is a line break',
      "a:\n  b: 'foo\n\n  bar\n  '\n  c: 1\n",
      { a: { b: 'foo\nbar ', c: 1 } },
    ],
    ['column 0', "a: 'foo\nbar'\n", { a: 'foo bar' }],
    [
      'a # inside quotes',
      "a:\n  b: 'foo\n    # not a comment\n  bar'\n",
      { a: { b: 'foo # not a comment bar' } },
    ],
    ['an apostrophe in a plain scalar opens nothing', "a: it's\nb: 'x\n y'\n", { a: "it's", b: 'x y' }],
    ['an escaped quote', "a: 'it''s\n b'\n", { a: "it's b" }],
    ['a block scalar with quotes inside', "a: |\n  'x\nb: 'y\n z'\n", { a: "'x\n", b: 'y z' }],
    [
      'merge key',
      'base: &base\n  a: 1\n  b: 2\nc:\n  <<: *base\n  b: 3\n',
      { base: { a: 1, b: 2 }, c: { a: 1, b: 3 } },
    ],
    [
      'merge of a list: earlier sources win, own keys over all',
      'x: &x {a: 1, b: 1}\nyy: &y {b: 2, c: 2}\nz:\n  <<: [*x, *y]\n  c: 3\n',
      { x: { a: 1, b: 1 }, yy: { b: 2, c: 2 }, z: { a: 1, b: 1, c: 3 } },
    ],
    ['merge of an inline map', 'z:\n  <<: {a: 1}\n  a: 2\n', { z: { a: 2 } }],
    ['a quoted << is a key', "z:\n  '<<': {a: 1}\n", { z: { '<<': { a: 1 } } }],
    ['an alias of a scalar', 'a: &v 5s\nb: *v\n', { a: '5s', b: '5s' }],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.deepEqual(plain(parseGoYaml(text).root), want));
  }

  it('refuses what go-yaml refuses, with its words', () => {
    assert.throws(
      () => parseGoYaml('x: &x [1]\nz:\n  <<: *x\n'),
      (e: unknown) =>
        e instanceof GoYamlError &&
        e.line === 3 &&
        e.message === 'map merge requires map or sequence of maps as the value',
    );
    assert.throws(() => parseGoYaml('a: &a\n  b: *a\n'), /anchor 'a' value contains itself/);
    assert.throws(() => parseGoYaml('a: *nope\n'), GoYamlError);
    assert.throws(() => parseGoYaml('a: 1\na: 2\n'), GoYamlError);
  });

  it('keeps line numbers: merged fields point at the anchor', () => {
    const { root, lines } = parseGoYaml('base: &b\n  a: 1\nc:\n  <<: *b\n');
    assert.ok(isMap(root));
    const c = root.get('c', true);
    assert.ok(isMap(c));
    const pair = c.items[0];
    assert.equal(lines.linePos((pair.key as Node).range?.[0] ?? 0).line, 2);
  });
});
