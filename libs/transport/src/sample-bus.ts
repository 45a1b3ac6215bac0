import { chunkBatch, splitByPartition, TimeSlice, type SampleBatch } from '@pharos/model';
import type { GroupSubscription, PartitionedLog } from './log.js';

/**
 * A record's most series and samples. Encoding a record is one synchronous run (and, for series
 * new to a log segment, 8 µs a series): a scrape of a million series as one record held the event
 * loop for seconds. Records this size take a few milliseconds and stay under Kafka's default
 * 1 MB message limit.
 */
export const RECORD_MAX_SERIES = 4096;
export const RECORD_MAX_SAMPLES = 32768;

/**
 * The write path's side of the sample bus: a batch is split by series hash so each series always
 * lands in the same partition, and each partition gets its part in records of bounded size, in
 * order, the event loop given back between them once a time slice is spent.
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
    // Array.from, not map: a partition no series went to is a hole, which map would keep and
    // Promise.all would turn into undefined.
    const records = await Promise.all(
      Array.from(parts, (b, partition) => (b ? this.appendChunked(partition, b) : [])),
    );
    return records.flat();
  }

  async publish(batch: SampleBatch): Promise<void> {
    const n = this.log.partitions;
    if (n === 1) {
      await this.appendChunked(0, batch);
      return;
    }
    await this.publishPartitioned(splitByPartition(batch, n));
  }

  /** Entry p of `parts` goes to partition p; each must hold only that partition's series. */
  async publishPartitioned(parts: ReadonlyArray<SampleBatch | undefined>): Promise<void> {
    if (parts.length !== this.log.partitions) {
      throw new Error(`${parts.length} partition batches for a bus of ${this.log.partitions} partitions`);
    }
    await Promise.all(parts.map((b, p) => (b ? this.appendChunked(p, b) : undefined)));
  }

  private async appendChunked(partition: number, batch: SampleBatch): Promise<PublishedRecord[]> {
    const chunks = chunkBatch(batch, RECORD_MAX_SERIES, RECORD_MAX_SAMPLES);
    const out: PublishedRecord[] = [];
    const slice = new TimeSlice();
    for (const c of chunks) {
      if (out.length > 0 && slice.due()) await slice.pause();
      out.push({ partition, offset: await this.log.append(partition, c), samples: c.refs.length });
    }
    return out;
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
