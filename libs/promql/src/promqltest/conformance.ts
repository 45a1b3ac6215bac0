import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTestFile, type FileReport } from './runner.js';

/**
 * The Prometheus project's PromQL test files: `../shared/promql-testdata` beside the repository
 * (see its README), or wherever PHAROS_PROMQL_TESTDATA points.
 */
export const TESTDATA_DIR =
  process.env.PHAROS_PROMQL_TESTDATA ??
  fileURLToPath(new URL('../../../../../shared/promql-testdata/', import.meta.url));

/** Evaluations known to fail, by file and line: the work still to do, kept honest by the test. */
export const KNOWN_FAILURES_FILE = fileURLToPath(new URL('./known-failures.json', import.meta.url));

export function testFiles(dir = TESTDATA_DIR): string[] {
  if (!existsSync(dir)) {
    throw new Error(`PromQL test files not found at ${dir}: set PHAROS_PROMQL_TESTDATA to their folder`);
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test'))
    .sort();
}

export async function runConformanceFile(name: string, dir = TESTDATA_DIR): Promise<FileReport> {
  return runTestFile(readFileSync(join(dir, name), 'utf8'));
}

export function readKnownFailures(): Record<string, number[]> {
  return JSON.parse(readFileSync(KNOWN_FAILURES_FILE, 'utf8')) as Record<string, number[]>;
}

export function summaryLine(name: string, r: FileReport): string {
  return `${name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (native histograms)`;
}
