import { splitByPartition, type SampleBatch } from '@pharos/model';
import type { PartitionedLog, Subscription } from './log.js';

/**
 * The write path's side of the sample bus: a batch is split by series hash so each series always
 * lands in the same partition, and each partition gets one record per published batch.
 */
export class SampleBus {
  constructor(readonly log: PartitionedLog<SampleBatch>) {}

  get partitions(): number {
    return this.log.partitions;
  }

  async publish(batch: SampleBatch): Promise<void> {
    const n = this.log.partitions;
    if (n === 1) {
      await this.log.append(0, batch);
      return;
    }
    const parts = splitByPartition(batch, n);
    await Promise.all(parts.map((b, p) => (b ? this.log.append(p, b) : undefined)));
  }

  /**
   * Consumes partitions for a group from its committed offsets. The handler must make the batch
   * durable before it returns; `commit` is then the caller's to call.
   */
  async subscribe(
    group: string,
    partitions: readonly number[],
    handler: (partition: number, offset: number, batch: SampleBatch) => Promise<void>,
  ): Promise<Subscription[]> {
    const subs: Subscription[] = [];
    for (const p of partitions) {
      const from = await this.log.committed(group, p);
      subs.push(this.log.consume(p, from, (offset, batch) => handler(p, offset, batch)));
    }
    return subs;
  }
}

export { splitByPartition };
