import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BUILD_INFO, startRoleServer } from '@pharos/observability';
import { registerUI } from '@pharos/web-ui';
import type { Alertmanager } from './alertmanager.js';
import { registerAlertmanagerAPI } from './api.js';

export interface AlertmanagerServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly ready: () => boolean;
  /** --web.config.file: TLS, basic auth, headers and rate limit on every endpoint. */
  readonly webConfigFile?: string;
}

/** Port 9093: the API v2, the UI, /-/reload, and the endpoints every role serves. */
export async function serveAlertmanager(
  am: Alertmanager,
  opts: AlertmanagerServerOptions,
): Promise<FastifyInstance> {
  return startRoleServer({
    ...opts,
    routes: async (app) => {
      registerAlertmanagerAPI(app, am, {
        versionInfo: { ...BUILD_INFO, goVersion: `node ${process.version}` },
        reload: async () => reloadLogged(am, opts.logger),
        logger: opts.logger,
      });
      await registerUI(app, 'alertmanager.html', ['/']);
    },
  });
}

/** A reload that logs its outcome; a refused config keeps the running one. */
export function reloadLogged(am: Alertmanager, logger: Logger): void {
  try {
    am.reload();
    logger.info('alertmanager configuration reloaded');
  } catch (e) {
    logger.error({ err: (e as Error).message }, 'error reloading alertmanager config; keeping the old one');
    throw e;
  }
}
