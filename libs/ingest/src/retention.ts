import type { Logger } from 'pino';
import type { ShardedTSDB } from '@pharos/tsdb';
import type { StorageFlags } from './storage-flags.js';

/** As often as Prometheus compacts its head, which is when its retention acts. */
export const RETENTION_INTERVAL_MS = 60_000;

/**
 * Applies the retention flags to `db` now and then every interval; resolves once the first run
 * is done, with the function that stops the timer.
 */
export async function startRetention(
  db: ShardedTSDB,
  flags: Pick<StorageFlags, 'retentionTime' | 'retentionSize'>,
  logger: Logger,
  intervalMs = RETENTION_INTERVAL_MS,
): Promise<() => Promise<void>> {
  if (flags.retentionTime === 0 && flags.retentionSize === 0) return async () => {};
  const run = async () => {
    const r = await db.applyRetention(flags.retentionTime, flags.retentionSize);
    if (r.deletedChunks > 0 || r.deletedSeries > 0) logger.info(r, 'retention applied');
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = run().catch((err: unknown) => logger.error({ err }, 'retention failed'));
  }, intervalMs);
  timer.unref();
  await run();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
