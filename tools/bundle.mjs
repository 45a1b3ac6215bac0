// Bundles an app into dist/apps/<name>/main.js. Workspace libraries are inlined through the
// tsconfig paths; npm dependencies stay external so native modules (classic-level) load as usual.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const name = process.argv[2];
if (!name) {
  console.error('usage: node tools/bundle.mjs <app>');
  process.exit(2);
}
// Roles that serve the web UI ship its built assets (dist/web-ui) beside their main.
if (['pharos', 'querier', 'alertmanager'].includes(name)) await import('./build-ui.mjs');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: [`apps/${name}/src/main.ts`],
  outfile: `dist/apps/${name}/main.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  tsconfig: `apps/${name}/tsconfig.json`,
  external: [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})],
  logLevel: 'warning',
});
