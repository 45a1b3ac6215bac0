import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Lifecycle } from './lifecycle.js';
import { createLogger, type LogLevel } from './logger.js';
import { createRegistry } from './metrics.js';

export interface RoleRuntime {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
}

/** What every role process starts with: its logger, its own /metrics registry, its shutdown order. */
export function roleRuntime(role: string, level: LogLevel): RoleRuntime {
  const logger = createLogger(level, role);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  return { logger, registry: createRegistry(), lifecycle: new Lifecycle(logger) };
}
