import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Lifecycle } from './lifecycle.js';
import { WebSecurity } from './web-security.js';

export interface RoleServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Ready to take work: /-/ready answers 200 only then. */
  readonly ready: () => boolean;
  /** The role's own routes, registered before the server listens. */
  readonly routes?: (app: FastifyInstance) => void | Promise<void>;
  /** POST /-/reload runs this; a refused config answers 500 with the reason, as Prometheus does. */
  readonly reload?: () => Promise<void>;
  /** Largest request body accepted (remote_write on a scraper); Fastify's 1 MiB otherwise. */
  readonly bodyLimit?: number;
  /** --web.config.file: TLS, basic auth, headers and rate limit on every endpoint. */
  readonly webConfigFile?: string;
}

/**
 * The HTTP endpoints every role serves about itself: /metrics, /-/healthy and /-/ready, with
 * Prometheus' answers, for roles that have no API of their own on HTTP.
 */
export async function startRoleServer(opts: RoleServerOptions): Promise<FastifyInstance> {
  const security = WebSecurity.load(opts.webConfigFile, opts.logger);
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => security.createServer(handler),
    ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}),
  });
  security.install(app);
  await opts.routes?.(app);
  const reload = opts.reload;
  if (reload) {
    app.post('/-/reload', async (_req, reply) => {
      try {
        await reload();
        return reply.send('');
      } catch (e) {
        return reply.code(500).send(`failed to reload config: ${(e as Error).message}\n`);
      }
    });
  }
  app.get('/metrics', async (_req, reply) =>
    reply.type(opts.registry.contentType).send(await opts.registry.metrics()),
  );
  app.get('/-/healthy', async (_req, reply) => reply.type('text/plain').send('Pharos is Healthy.\n'));
  app.get('/-/ready', async (_req, reply) =>
    opts.ready()
      ? reply.type('text/plain').send('Pharos is Ready.\n')
      : reply.code(503).type('text/plain').send('Service Unavailable\n'),
  );
  await app.listen({ host: opts.host, port: opts.port });
  opts.logger.info(
    { address: `${opts.host}:${opts.port}`, tls: security.tlsEnabled },
    'HTTP endpoints listening',
  );
  return app;
}

/**
 * A role's HTTP server tied to its lifecycle: not ready until `ready()` is called, unready again
 * and closed when the role stops.
 */
export async function serveRole(
  lifecycle: Lifecycle,
  opts: Omit<RoleServerOptions, 'ready'>,
): Promise<{ readonly app: FastifyInstance; ready: () => void }> {
  let isReady = false;
  const app = await startRoleServer({ ...opts, ready: () => isReady });
  lifecycle.onStop('http', async () => {
    isReady = false;
    await app.close();
  });
  return { app, ready: () => void (isReady = true) };
}
