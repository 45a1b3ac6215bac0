import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Two pages from one build: the querier's UI (index.html) and the Alertmanager's (alertmanager.html),
// sharing the styles and the API helpers. Everything is bundled; nothing loads from a CDN.
export default defineConfig({
  root: here('./app'),
  base: '/',
  logLevel: 'warn',
  // The one piece of a Node-side library the browser shares: Prometheus durations, no imports.
  resolve: { alias: { '@pharos/config/duration': here('../config/src/duration.ts') } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../../dist/web-ui'),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      input: { index: here('./app/index.html'), alertmanager: here('./app/alertmanager.html') },
    },
  },
});
