// Runs one project's tests with node's own test runner; tsx compiles TypeScript on the fly and
// resolves the workspace's tsconfig paths, so tests need no build step.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: node tools/run-tests.mjs <projectRoot>');
  process.exit(2);
}

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = collect(root, []).sort();
if (files.length === 0) {
  console.error(`no test files under ${root}`);
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-timeout=120000',
    ...process.argv.slice(3),
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
