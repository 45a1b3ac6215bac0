import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The querier's pages: Prometheus' paths, so bookmarks and generatorURLs open here too. */
export const PROMETHEUS_UI_ROUTES = [
  '/',
  '/query',
  '/graph',
  '/alerts',
  '/targets',
  '/service-discovery',
  '/rules',
  '/tsdb-status',
  '/config',
  '/flags',
  '/status',
] as const;

/**
 * The built assets: beside a bundled role's main (dist/apps/<role>/main.js → dist/web-ui), or
 * under dist/ of the checkout when run from source.
 */
export function uiDirectory(): string | null {
  for (const rel of ['../../web-ui/', '../../../dist/web-ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

/**
 * Serves one page of the web UI on `routes` and the shared assets under /assets/. Without a
 * build the routes answer 503 with the command that makes one, and the API is unaffected.
 */
export async function registerUI(
  app: FastifyInstance,
  page: 'index.html' | 'alertmanager.html',
  routes: readonly string[],
): Promise<void> {
  const dir = uiDirectory();
  if (dir === null) {
    for (const r of routes)
      app.get(r, async (_req, reply) =>
        reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The web UI is not built: run `node tools/build-ui.mjs` (npm start does).\n'),
      );
    return;
  }
  await app.register(fastifyStatic, {
    root: `${dir}assets`,
    prefix: '/assets/',
    decorateReply: false,
    // File names carry a content hash: a browser may keep them.
    immutable: true,
    maxAge: '365d',
  });
  const html = readFileSync(`${dir}${page}`);
  for (const r of routes)
    app.get(r, async (_req, reply) =>
      reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html),
    );
}
