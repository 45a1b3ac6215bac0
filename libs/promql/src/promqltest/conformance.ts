import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTestFile, type FileReport } from './runner.js';

const CANDIDATES = [
  process.env.PHAROS_PROMQL_TESTDATA,
  // Beside the repository, as the project lays it out (see that folder's README).
  fileURLToPath(new URL('../../../../../shared/promql-testdata/', import.meta.url)),
  // Beside the current directory's parent, for a clone checked out elsewhere.
  join(process.cwd(), '..', 'shared', 'promql-testdata'),
];

/**
 * The Prometheus project's PromQL test files: where PHAROS_PROMQL_TESTDATA points, or
 * `../shared/promql-testdata` beside the repository. Undefined when none of them exists.
 */
export const TESTDATA_DIR: string | undefined = CANDIDATES.find(
  (d): d is string => d !== undefined && d !== '' && existsSync(d),
);

/** Evaluations known to fail, by file and line: the work still to do, kept honest by the test. */
export const KNOWN_FAILURES_FILE = fileURLToPath(new URL('./known-failures.json', import.meta.url));

export function testdataDir(): string {
  if (TESTDATA_DIR === undefined) {
    throw new Error(
      `PromQL test files not found (looked in ${CANDIDATES.filter(Boolean).join(', ')}): set PHAROS_PROMQL_TESTDATA`,
    );
  }
  return TESTDATA_DIR;
}

export function testFiles(dir = testdataDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test'))
    .sort();
}

export async function runConformanceFile(name: string, dir = testdataDir()): Promise<FileReport> {
  return runTestFile(readFileSync(join(dir, name), 'utf8'));
}

export function readKnownFailures(): Record<string, number[]> {
  return JSON.parse(readFileSync(KNOWN_FAILURES_FILE, 'utf8')) as Record<string, number[]>;
}

export function summaryLine(name: string, r: FileReport): string {
  return `${name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (native histograms)`;
}
