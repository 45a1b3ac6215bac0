import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ShardedTSDB } from '@pharos/tsdb';
import type { IngesterAdmin } from './grpc.js';
import type { Ingester } from './ingester.js';

/**
 * The admin API's work on an ingester's shards, for the embedded mode and the ingester role alike.
 * `storagePath` is the directory that holds `snapshots/`.
 */
export function shardsAdmin(
  db: ShardedTSDB,
  ingester: Pick<Ingester, 'checkpoint'>,
  storagePath: string,
  logger: Logger,
): IngesterAdmin {
  return {
    deleteSeries: async (sets, mint, maxt) => {
      const total = { deletedSeries: 0, deletedSamples: 0 };
      for (const ms of sets) {
        const r = await db.deleteRange(ms, mint, maxt);
        total.deletedSeries += r.deletedSeries;
        total.deletedSamples += r.deletedSamples;
        logger.info({ matchers: ms.map(String), start: mint, end: maxt, ...r }, 'deleted series data');
      }
      // Commits the log past every deleted sample (the file log or Kafka), so a restart does not
      // replay them back.
      await ingester.checkpoint();
      return total;
    },
    snapshot: async (name, withHead) => {
      await db.snapshot(join(storagePath, 'snapshots', name), withHead);
      logger.info({ name, withHead }, 'snapshot written');
    },
  };
}
