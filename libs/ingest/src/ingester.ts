import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SampleBatch } from '@pharos/model';
import type { SampleBus, Subscription } from '@pharos/transport';
import type { TSDB } from '@pharos/tsdb';

/**
 * Consumes partitions of the sample bus into TSDB shards, one shard per partition. A partition's
 * offset is committed only after its batch is written, so a restart resumes where storage ends.
 */
export class Ingester {
  private subs: Subscription[] = [];
  private readonly appended: Counter;
  private readonly rejected: Counter<'reason'>;

  constructor(
    private readonly bus: SampleBus,
    private readonly shards: ReadonlyMap<number, TSDB>,
    private readonly logger: Logger,
    registry: Registry,
    private readonly group = 'ingester',
  ) {
    this.appended = new Counter({
      name: 'prometheus_tsdb_head_samples_appended_total',
      help: 'Total number of appended samples.',
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'pharos_ingester_samples_rejected_total',
      help: 'Samples refused by the write rules, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    const shardList = [...shards.values()];
    new Gauge({
      name: 'prometheus_tsdb_head_series',
      help: 'Total number of series in the head block.',
      registers: [registry],
      collect() {
        this.set(shardList.reduce((n, s) => n + s.stats().series, 0));
      },
    });
  }

  async start(): Promise<void> {
    this.subs = await this.bus.subscribe(this.group, [...this.shards.keys()], (p, offset, batch) =>
      this.handle(p, offset, batch),
    );
  }

  private async handle(partition: number, offset: number, batch: SampleBatch): Promise<void> {
    const db = this.shards.get(partition);
    if (!db) throw new Error(`no shard for partition ${partition}`);
    const r = await db.append(batch);
    this.appended.inc(r.appended);
    if (r.outOfOrder) this.rejected.inc({ reason: 'out_of_order' }, r.outOfOrder);
    if (r.duplicate) this.rejected.inc({ reason: 'duplicate' }, r.duplicate);
    if (r.invalid) this.rejected.inc({ reason: 'invalid_labels' }, r.invalid);
    if (r.firstError !== undefined) {
      this.logger.debug(
        { partition, rejected: r.outOfOrder + r.duplicate + r.invalid, reason: r.firstError },
        'samples rejected',
      );
    }
    await this.bus.log.commit(this.group, partition, offset + 1);
  }

  /** Waits until everything published so far is stored. */
  async drain(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.drained()));
  }

  async stop(): Promise<void> {
    await this.drain();
    await Promise.all(this.subs.map((s) => s.stop()));
    this.subs = [];
  }
}
