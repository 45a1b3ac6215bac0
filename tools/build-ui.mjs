// Builds the web UI (libs/web-ui, Vite) into dist/web-ui, unless it is newer than every source:
// the e2e tests and `npm start` call this before they bundle a role that serves the UI.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist/web-ui/index.html');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(
  newest(join(root, 'libs/web-ui/app')),
  statSync(join(root, 'libs/web-ui/vite.config.ts')).mtimeMs,
  statSync(join(root, 'package-lock.json')).mtimeMs,
);
const stale = () => process.argv.includes('--force') || !existsSync(out) || statSync(out).mtimeMs < sources;

// Test files run in parallel and each may ask for a build: one builds, the others wait for it
// and then find the output fresh. A lock older than two minutes is a crashed build's.
const lock = join(root, 'dist/.web-ui.lock');
mkdirSync(join(root, 'dist'), { recursive: true });
async function locked(fn) {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => globalThis.setTimeout(r, 200));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (stale()) {
  await locked(async () => {
    if (stale()) await build({ configFile: join(root, 'libs/web-ui/vite.config.ts') });
  });
}
