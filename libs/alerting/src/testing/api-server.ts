import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Alertmanager } from '../alertmanager.js';
import { registerAlertmanagerAPI } from '../api.js';
import { FileState } from '../state.js';

/**
 * An Alertmanager with file state in a directory of its own and its API v2 on an injectable
 * Fastify app. No integrations: a flush would otherwise retry a webhook until stop.
 */
export async function startTestAlertmanager(prefix: string): Promise<{
  dir: string;
  am: Alertmanager;
  app: FastifyInstance;
  close: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'alertmanager.yml'), 'route: {receiver: quiet}\nreceivers: [{name: quiet}]\n');
  const logger = pino({ level: 'silent' });
  const am = new Alertmanager({
    configFile: join(dir, 'alertmanager.yml'),
    externalURL: 'http://127.0.0.1:9093',
    state: new FileState(join(dir, 'state'), logger),
    logger,
    registry: new Registry(),
  });
  await am.start();
  const app = Fastify({ logger: false });
  registerAlertmanagerAPI(app, am, {
    versionInfo: { version: 'test', revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' },
    reload: async () => undefined,
  });
  await app.ready();
  return {
    dir,
    am,
    app,
    close: async () => {
      await app.close();
      await am.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
