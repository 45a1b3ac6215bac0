// `pharos test rules` against the current promtool's `test rules` (Prometheus 3, built by
// ../shared/tools/anchors.sh) on the same files, passing and failing ones: the same exit status
// and byte for byte the same stdout and stderr. And `promtool check rules` accepts every example
// rule file in the repository.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { anchorBinary, PHAROS_MAIN, requireBinary, ROOT } from './harness.js';

const DIR = join(ROOT, 'libs/rules/src/testdata/unittest');
const TESTS = [
  'pass.yml',
  'templates.yml',
  'fail.yml',
  'unexpected-alert.yml',
  'unknown-field.yml',
  'broken-rules.yml',
  'long-series.yml',
  'anchors.yml',
];

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pharos test rules agrees with promtool test rules', () => {
  const promtool = anchorBinary('promtool');
  for (const file of TESTS) {
    it(file, () => {
      const want = run(promtool, ['test', 'rules', file]);
      const got = run(process.execPath, [PHAROS_MAIN, 'test', 'rules', file]);
      assert.equal(got.status, want.status, `exit status\n${got.stderr}`);
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.stderr, want.stderr);
    });
  }

  it('covers passing and failing files', () => {
    const statuses = TESTS.map((f) => run(promtool, ['test', 'rules', f]).status);
    assert.ok(statuses.includes(0) && statuses.includes(1));
  });
});

describe('promtool check rules', () => {
  const promtool = requireBinary('promtool');
  const examples = [
    join(ROOT, 'apps/pharos/config/rules.yml'),
    ...readdirSync(DIR)
      .filter((f) => f.endsWith('.rules.yml') || f === 'rules.yml')
      .map((f) => join(DIR, f)),
  ];
  for (const file of examples) {
    it(`accepts ${file.slice(ROOT.length + 1)}`, () => {
      const r = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }
});
