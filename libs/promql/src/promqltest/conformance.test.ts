import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  readKnownFailures,
  runConformanceFile,
  summaryLine,
  TESTDATA_DIR,
  testFiles,
} from './conformance.js';

// Every upstream test file runs. An evaluation that fails and is not listed in
// known-failures.json fails the suite (a regression); one listed that now passes fails it too,
// so the list only ever shrinks (`npm run promqltest -- --write-known-failures` rewrites it).
// The files live outside the repository (../shared). Where a checkout has no such folder the
// suite says so and is skipped, rather than failing on something the change cannot fix.
describe(
  'PromQL conformance (upstream test files)',
  { skip: TESTDATA_DIR === undefined ? 'no ../shared/promql-testdata' : false },
  () => {
    if (TESTDATA_DIR === undefined) return;
    const known = readKnownFailures();
    const totals = { passed: 0, failed: 0, skipped: 0 };
    for (const file of testFiles()) {
      it(file, async () => {
        const r = await runConformanceFile(file);
        totals.passed += r.passed;
        totals.failed += r.failed;
        totals.skipped += r.skipped;
        console.log(summaryLine(file, r));
        const expected = new Set(known[file] ?? []);
        const regressions = r.evals.filter((e) => e.outcome.status === 'failed' && !expected.has(e.line));
        const fixed = r.evals.filter((e) => e.outcome.status !== 'failed' && expected.has(e.line));
        assert.deepEqual(
          regressions.map(
            (e) => `${file}:${e.line} ${e.expr}: ${e.outcome.status === 'failed' ? e.outcome.reason : ''}`,
          ),
          [],
          'evaluations that used to pass fail now',
        );
        assert.deepEqual(
          fixed.map((e) => `${file}:${e.line}`),
          [],
          'evaluations listed as known failures pass now: remove them from known-failures.json',
        );
      });
    }
    it('totals', () => {
      console.log(
        `total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped (native histograms)`,
      );
      assert.ok(totals.passed > 0);
    });
  },
);
