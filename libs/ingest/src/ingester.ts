import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { splitByPartition, type SampleBatch } from '@pharos/model';
import type { GroupSubscription, SampleBus } from '@pharos/transport';
import { sumAppendResults, type AppendResult, type TSDB } from '@pharos/tsdb';

export interface IngesterOptions {
  /** Consumer group: replicas of the same partitions use different groups. */
  group?: string;
  /** How often head chunks are checkpointed to LevelDB and the log offset committed (0: only on stop). */
  checkpointIntervalMs?: number;
}

/**
 * Consumes partitions of the sample bus into TSDB shards, one shard per partition.
 *
 * The log is the write-ahead log: a partition's offset is committed only after a checkpoint has
 * put every sample before it into LevelDB, sealed chunks and open heads alike. A restart replays
 * the log from the committed offset, so nothing that was appended to the log is lost, whether
 * the log is the embedded file log or Kafka.
 */
export class Ingester {
  private sub: GroupSubscription | undefined;
  /** Newest offset handled per partition, and the offset present when we started (replay end). */
  private readonly handled = new Map<number, number>();
  private readonly replayEnd = new Map<number, number>();
  private checkpointing: Promise<void> = Promise.resolve();
  /** Callers of `push` waiting for their record to be stored, by partition and offset. */
  private readonly waiters = new Map<number, Map<number, (r: AppendResult) => void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly group: string;
  private readonly interval: number;
  private readonly appended: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly outOfOrder: Counter;
  private readonly replayed: Counter;
  private readonly checkpoints: Counter;

  constructor(
    private readonly bus: SampleBus,
    private readonly shards: ReadonlyMap<number, TSDB>,
    private readonly logger: Logger,
    registry: Registry,
    opts: IngesterOptions = {},
  ) {
    this.group = opts.group ?? 'ingester';
    this.interval = opts.checkpointIntervalMs ?? 300_000;
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
    this.outOfOrder = new Counter({
      name: 'prometheus_tsdb_out_of_order_samples_total',
      help: 'Total number of out of order samples ingestion failed attempts due to out of order being disabled.',
      registers: [registry],
    });
    this.replayed = new Counter({
      name: 'pharos_ingester_replayed_records_total',
      help: 'Log records replayed after a restart (samples already stored are skipped).',
      registers: [registry],
    });
    this.checkpoints = new Counter({
      name: 'pharos_ingester_checkpoints_total',
      help: 'Checkpoints of head chunks to LevelDB followed by an offset commit.',
      registers: [registry],
    });
    const shardList = [...shards.values()];
    new Gauge({
      name: 'prometheus_tsdb_head_series',
      help: 'Total number of series in the head block.',
      registers: [registry],
      collect() {
        this.set(shardList.reduce((n, s) => n + s.seriesCount(), 0));
      },
    });
    const lag = (p: number) => bus.log.endOffset(p) - (this.handled.get(p) ?? -1) - 1;
    new Gauge({
      name: 'pharos_ingester_partition_lag_records',
      help: 'Records appended to a partition and not yet stored.',
      labelNames: ['partition'],
      registers: [registry],
      collect() {
        for (const p of shards.keys()) this.set({ partition: String(p) }, lag(p));
      },
    });
  }

  async start(): Promise<void> {
    for (const p of this.shards.keys()) this.replayEnd.set(p, this.bus.log.endOffset(p));
    this.sub = await this.bus.subscribe(this.group, [...this.shards.keys()], (p, offset, batch) =>
      this.handle(p, offset, batch),
    );
    if (this.interval > 0) {
      this.timer = setInterval(() => {
        this.checkpoint().catch((err) => this.logger.error({ err }, 'checkpoint failed'));
      }, this.interval);
      this.timer.unref();
    }
  }

  private async handle(partition: number, offset: number, batch: SampleBatch): Promise<void> {
    const db = this.shards.get(partition);
    if (!db) throw new Error(`no shard for partition ${partition}`);
    const r = await db.append(batch);
    this.handled.set(partition, offset);
    const waiter = this.waiters.get(partition)?.get(offset);
    if (waiter) {
      this.waiters.get(partition)?.delete(offset);
      waiter(r);
    }
    this.appended.inc(r.appended);
    if (offset < (this.replayEnd.get(partition) ?? 0)) {
      // Part of a replayed record may already be stored: those samples come back as duplicates.
      this.replayed.inc();
      return;
    }
    if (r.outOfOrder) {
      this.rejected.inc({ reason: 'out_of_order' }, r.outOfOrder);
      this.outOfOrder.inc(r.outOfOrder);
    }
    if (r.duplicate) this.rejected.inc({ reason: 'duplicate' }, r.duplicate);
    if (r.invalid) this.rejected.inc({ reason: 'invalid_labels' }, r.invalid);
    if (r.firstError !== undefined) {
      this.logger.debug(
        { partition, rejected: r.outOfOrder + r.duplicate + r.invalid, reason: r.firstError },
        'samples rejected',
      );
    }
  }

  /**
   * Writes a batch through the log (so it is durable before anything else) and resolves with what
   * storage made of it once the ingester has handled it: the Push call of the gRPC service.
   */
  async push(batch: SampleBatch): Promise<AppendResult> {
    const n = this.bus.partitions;
    const parts = n === 1 ? [batch] : splitByPartition(batch, n);
    const results = await Promise.all(
      parts.map(async (b, p) => {
        if (!b) return undefined;
        if (!this.shards.has(p)) throw new Error(`partition ${p} is not owned by this ingester`);
        let waiting = this.waiters.get(p);
        if (!waiting) this.waiters.set(p, (waiting = new Map()));
        // The waiter is in place before the append, since a record may be stored before the
        // append's promise settles; the local logs hand out offsets in call order.
        const expected = this.bus.log.endOffset(p);
        const stored = new Promise<AppendResult>((resolve) => waiting.set(expected, resolve));
        const offset = await this.bus.log.append(p, b);
        if (offset !== expected) throw new Error(`log gave offset ${offset}, expected ${expected}`);
        return stored;
      }),
    );
    return sumAppendResults(results);
  }

  /** Makes everything handled so far durable in LevelDB, then commits the offsets past it. */
  checkpoint(): Promise<void> {
    const run = this.checkpointing.then(async () => {
      for (const [p, db] of this.shards) {
        const upTo = this.handled.get(p);
        if (upTo === undefined) continue;
        await db.checkpoint();
        await this.sub?.commit(p, upTo + 1);
      }
      this.checkpoints.inc();
    });
    this.checkpointing = run.catch(() => undefined);
    return run;
  }

  /** Waits until everything published so far is stored. */
  async drain(): Promise<void> {
    await this.sub?.drained();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.drain();
    // Commits need the subscription alive (a Kafka member commits only while in its group).
    await this.sub?.pause();
    await this.checkpoint();
    await this.sub?.stop();
    this.sub = undefined;
  }
}
