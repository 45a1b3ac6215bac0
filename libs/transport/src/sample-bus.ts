import { SampleBatchBuilder, shardOf, type SampleBatch } from '@pharos/model';
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

export function splitByPartition(batch: SampleBatch, n: number): Array<SampleBatch | undefined> {
  const builders: Array<SampleBatchBuilder | undefined> = new Array(n);
  const seriesIndex: Array<Map<number, number> | undefined> = new Array(n);
  const partOfSeries = batch.hashes.map((h) => shardOf(h, n));
  for (let i = 0; i < batch.refs.length; i++) {
    const ref = batch.refs[i];
    const p = partOfSeries[ref];
    let b = builders[p];
    let idx = seriesIndex[p];
    if (!b || !idx) {
      b = builders[p] = new SampleBatchBuilder();
      idx = seriesIndex[p] = new Map();
    }
    let local = idx.get(ref);
    if (local === undefined) {
      local = b.addSeries(batch.series[ref], batch.hashes[ref]);
      idx.set(ref, local);
    }
    b.add(local, batch.timestamps[i], batch.values[i]);
  }
  return builders.map((b) => b?.build());
}
