import { splitByPartition, type SampleBatch } from '@pharos/model';
import type { GroupSubscription, PartitionedLog } from './log.js';

/**
 * The write path's side of the sample bus: a batch is split by series hash so each series always
 * lands in the same partition, and each partition gets one record per published batch.
 */
/** Where one partition's part of a published batch went. */
export interface PublishedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly samples: number;
}

export class SampleBus {
  constructor(readonly log: PartitionedLog<SampleBatch>) {}

  get partitions(): number {
    return this.log.partitions;
  }

  /**
   * Appends a batch, a record per partition it touches, and says where each went: a writer that
   * must know what storage made of its samples asks the partition's ingester about that offset.
   */
  async append(batch: SampleBatch): Promise<PublishedRecord[]> {
    const n = this.log.partitions;
    const parts = n === 1 ? [batch] : splitByPartition(batch, n);
    const records = await Promise.all(
      parts.map(async (b, partition) =>
        b ? { partition, offset: await this.log.append(partition, b), samples: b.refs.length } : undefined,
      ),
    );
    return records.filter((r) => r !== undefined);
  }

  async publish(batch: SampleBatch): Promise<void> {
    const n = this.log.partitions;
    if (n === 1) {
      await this.log.append(0, batch);
      return;
    }
    await this.publishPartitioned(splitByPartition(batch, n));
  }

  /** Entry p of `parts` goes to partition p; each must hold only that partition's series. */
  async publishPartitioned(parts: ReadonlyArray<SampleBatch | undefined>): Promise<void> {
    if (parts.length !== this.log.partitions) {
      throw new Error(`${parts.length} partition batches for a bus of ${this.log.partitions} partitions`);
    }
    await Promise.all(parts.map((b, p) => (b ? this.log.append(p, b) : undefined)));
  }

  /**
   * Consumes partitions for a group from its committed offsets. The handler stores the batch;
   * committing once it is durable is the caller's to do, through the subscription.
   */
  subscribe(
    group: string,
    partitions: readonly number[],
    handler: (partition: number, offset: number, batch: SampleBatch) => Promise<void>,
  ): Promise<GroupSubscription> {
    return this.log.subscribe(group, partitions, handler);
  }
}

export { splitByPartition };
