import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mutationsOf } from '@pharos/model/testing';
import { parseRuleFile, RuleFileError } from './index.js';

const RULES = readFileSync(join(import.meta.dirname, 'testdata/unittest/rules.yml'), 'utf8');

describe('rule file loader under bad input', () => {
  it('edits of a valid rule file load or give a RuleFileError', () => {
    fc.assert(
      fc.property(mutationsOf(RULES, 4), (text) => {
        try {
          parseRuleFile(text, 'fuzz.yml');
        } catch (e) {
          assert.ok(e instanceof RuleFileError, `${String(e)} on ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
