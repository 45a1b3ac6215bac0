// `npm run promqltest [-- <file filter>] [--verbose] [--write-known-failures]`: runs the upstream
// PromQL test files and prints per file passed/failed/skipped and the totals.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  KNOWN_FAILURES_FILE,
  runConformanceFile,
  summaryLine,
  testFiles,
} from '../libs/promql/src/promqltest/conformance.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { verbose: { type: 'boolean', short: 'v' }, 'write-known-failures': { type: 'boolean' } },
});
const totals = { passed: 0, failed: 0, skipped: 0 };
const known: Record<string, number[]> = {};
for (const f of testFiles()) {
  if (positionals.length > 0 && !positionals.some((p) => f.includes(p))) continue;
  const r = await runConformanceFile(f);
  totals.passed += r.passed;
  totals.failed += r.failed;
  totals.skipped += r.skipped;
  console.log(summaryLine(f, r));
  const failed = r.evals.filter((e) => e.outcome.status === 'failed');
  if (failed.length > 0) known[f] = failed.map((e) => e.line);
  if (values.verbose) {
    for (const e of r.evals) {
      if (e.outcome.status === 'passed') continue;
      console.log(`  ${f}:${e.line} ${e.outcome.status}: ${e.expr}\n      ${e.outcome.reason}`);
    }
  }
}
console.log(
  `total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped (native histograms)`,
);
if (values['write-known-failures']) {
  if (positionals.length > 0) throw new Error('--write-known-failures needs the whole suite: give no filter');
  writeFileSync(KNOWN_FAILURES_FILE, JSON.stringify(known, null, 1) + '\n');
  console.log(`wrote ${KNOWN_FAILURES_FILE}`);
}
