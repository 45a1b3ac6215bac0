import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RELABEL_ACTIONS, type RelabelConfig } from '@pharos/config';
import { labelsFrom } from '@pharos/model';
import { mutationsOf, syntaxSoup } from '@pharos/model/testing';
import { anchoredRegex } from '@pharos/regex';
import { relabel } from './index.js';

// Patterns that take exponential time in a backtracking engine on a long run of "a"s.
const PATHOLOGICAL = [
  '(a+)+$',
  '(a|aa)+b',
  '(.*a){20}',
  '((a*)*)*b',
  '(x+x+)+y',
  '(a|a?)+b',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
];

const LONG = 'a'.repeat(100_000);

describe('relabel regexes under bad input', () => {
  it('backtracking-pathological patterns finish on 100k-character values (RE2 is linear)', () => {
    for (const p of PATHOLOGICAL) {
      const re = anchoredRegex(p);
      assert.equal(typeof re.matches(LONG), 'boolean', p);
      const out = relabel(labelsFrom({ __name__: 'x', v: LONG }), [
        {
          sourceLabels: ['v'],
          separator: ';',
          regex: re,
          modulus: 0,
          targetLabel: 'w',
          replacement: '$1',
          action: 'replace',
        },
      ]);
      assert.ok(out !== undefined, p);
    }
  });

  it('any pattern compiles or is refused with an Error naming the problem', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          syntaxSoup,
          fc.constantFrom(...PATHOLOGICAL).chain((p) => mutationsOf(p, 3)),
        ),
        (p) => {
          try {
            anchoredRegex(p).matches('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!');
          } catch (e) {
            assert.ok(e instanceof Error && e.message.length > 0, `${String(e)} for ${JSON.stringify(p)}`);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('any action, pattern and replacement relabels or drops without throwing', () => {
    const config = fc.record({
      action: fc.constantFrom(...RELABEL_ACTIONS),
      regex: fc.constantFrom('(.*)', '(.+):(\\d+)', 'a|b', '([a-z]+)_(.*)', '', '.*(x)?.*'),
      replacement: fc.oneof(fc.constantFrom('$1', '${2}_x', '$0$$', '${name}', '$99'), syntaxSoup),
      target: fc.oneof(fc.constantFrom('t', '$1', 'dst_${1}', ''), fc.string({ maxLength: 5 })),
      modulus: fc.nat(10),
    });
    fc.assert(
      fc.property(
        fc.array(config, { minLength: 1, maxLength: 4 }),
        fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/), syntaxSoup, { maxKeys: 5 }),
        (cfgs, labels) => {
          const configs: RelabelConfig[] = cfgs.map((c) => ({
            sourceLabels: Object.keys(labels).slice(0, 2),
            separator: ';',
            regex: anchoredRegex(c.regex),
            modulus: c.action === 'hashmod' ? c.modulus + 1 : c.modulus,
            targetLabel: c.target,
            replacement: c.replacement,
            action: c.action,
          }));
          const out = relabel(labelsFrom({ __name__: 'm', ...labels }), configs);
          if (out !== null) for (const l of out) assert.equal(typeof l.value, 'string');
        },
      ),
      { numRuns: 3000 },
    );
  });
});
