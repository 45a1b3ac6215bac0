import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { shardOf, type SampleBatch } from '@pharos/model';
import type { GroupSubscription, SampleBus } from '@pharos/transport';
import { PartitionNotOwned } from './grpc.js';
import {
  emptyAppendResult,
  rejectedSamples,
  sumAppendResults,
  type AppendResult,
  type TSDB,
} from '@pharos/tsdb';

/**
 * Appends a batch to the sample log and resolves with what storage made of it, asking each
 * partition's record of `resultOf`: the ingester itself in embedded mode, its owner over gRPC
 * for the distributed remote write gateway.
 */
export async function writeThroughLog(
  bus: SampleBus,
  batch: SampleBatch,
  resultOf: (partition: number, offset: number) => Promise<AppendResult>,
): Promise<AppendResult> {
  const records = await bus.append(batch);
  const total = sumAppendResults(await Promise.all(records.map((r) => resultOf(r.partition, r.offset))));
  total.appended = batch.refs.length - rejectedSamples(total);
  return total;
}

/** Records whose rejections are remembered per partition, for writers asking after them. */
const KEPT_RESULTS = 10_000;
/** How long a writer waits for its record to be stored before it is told to retry. */
const RESULT_TIMEOUT_MS = 30_000;

interface PartitionResults {
  /** The first offset handled since start: nothing is known of those before it. */
  first: number;
  /** Results with rejections, by offset, oldest first; a record not here was wholly stored. */
  readonly rejected: Map<number, AppendResult>;
  readonly waiters: Map<number, Array<(r: AppendResult) => void>>;
}

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
  /** What storage made of recent records, for writers that ask (`resultOf`), by partition. */
  private readonly results = new Map<number, PartitionResults>();
  private timer: NodeJS.Timeout | undefined;
  private readonly group: string;
  private readonly interval: number;
  private readonly appended: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly outOfOrder: Counter;
  private readonly outOfBound: Counter<'type'>;
  private readonly tooOld: Counter<'type'>;
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
    this.outOfBound = new Counter({
      name: 'prometheus_tsdb_out_of_bound_samples_total',
      help: 'Total number of out of bound samples ingestion failed attempts with out of order support disabled.',
      labelNames: ['type'],
      registers: [registry],
    });
    this.tooOld = new Counter({
      name: 'prometheus_tsdb_too_old_samples_total',
      help: 'Total number of out of order samples ingestion failed attempts with out of support enabled, but sample outside of time window.',
      labelNames: ['type'],
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
    this.noteResult(partition, offset, r);
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
    if (r.outOfBounds) {
      this.rejected.inc({ reason: 'out_of_bounds' }, r.outOfBounds);
      this.outOfBound.inc({ type: 'float' }, r.outOfBounds);
    }
    if (r.tooOld) {
      this.rejected.inc({ reason: 'too_old' }, r.tooOld);
      this.tooOld.inc({ type: 'float' }, r.tooOld);
    }
    if (r.firstError !== undefined) {
      this.logger.debug(
        { partition, rejected: rejectedSamples(r), reason: r.firstError },
        'samples rejected',
      );
    }
  }

  private partitionResults(partition: number): PartitionResults {
    let pr = this.results.get(partition);
    if (!pr) this.results.set(partition, (pr = { first: -1, rejected: new Map(), waiters: new Map() }));
    return pr;
  }

  private noteResult(partition: number, offset: number, r: AppendResult): void {
    const pr = this.partitionResults(partition);
    if (pr.first < 0) pr.first = offset;
    if (rejectedSamples(r) > 0) {
      pr.rejected.set(offset, r);
      // Insertion order is offset order: the oldest goes first.
      if (pr.rejected.size > KEPT_RESULTS) pr.rejected.delete(pr.rejected.keys().next().value as number);
    }
    const waiting = pr.waiters.get(offset);
    if (waiting) {
      pr.waiters.delete(offset);
      for (const w of waiting) w(r);
    }
  }

  /**
   * What storage made of the record at `offset` of `partition`, once this ingester has handled
   * it: the remote write receiver's answer. A record that was wholly stored comes back without
   * rejections (its `appended` is then the caller's to know). Rejects if the record is older than
   * what this ingester remembers, or is not handled within `timeoutMs`.
   */
  resultOf(partition: number, offset: number, timeoutMs = RESULT_TIMEOUT_MS): Promise<AppendResult> {
    if (!this.shards.has(partition))
      return Promise.reject(new PartitionNotOwned(`partition ${partition} is not owned by this ingester`));
    const pr = this.partitionResults(partition);
    const handled = this.handled.get(partition) ?? -1;
    if (offset <= handled) {
      const known = pr.rejected.get(offset);
      if (known) return Promise.resolve(known);
      const oldestKept = pr.rejected.keys().next().value;
      if (
        pr.first < 0 ||
        offset < pr.first ||
        (pr.rejected.size >= KEPT_RESULTS && oldestKept !== undefined && offset < oldestKept)
      )
        return Promise.reject(
          new Error(`partition ${partition} offset ${offset} is older than this ingester remembers`),
        );
      return Promise.resolve(emptyAppendResult());
    }
    return new Promise<AppendResult>((resolve, reject) => {
      let list = pr.waiters.get(offset);
      if (!list) pr.waiters.set(offset, (list = []));
      const timer = setTimeout(() => {
        const rest = (pr.waiters.get(offset) ?? []).filter((w) => w !== done);
        if (rest.length > 0) pr.waiters.set(offset, rest);
        else pr.waiters.delete(offset);
        reject(
          new Error(`storage did not take partition ${partition} offset ${offset} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const done = (r: AppendResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      list.push(done);
    });
  }

  /**
   * Writes a batch through the log (so it is durable before anything else) and resolves with what
   * storage made of it once the ingester has handled it: the embedded write path's answer.
   */
  async push(batch: SampleBatch): Promise<AppendResult> {
    const n = this.bus.partitions;
    // Owning every partition (the embedded mode) there is nothing to check per series.
    if (this.shards.size < n) {
      for (const h of batch.hashes) {
        const p = n === 1 ? 0 : shardOf(h, n);
        if (!this.shards.has(p)) throw new Error(`partition ${p} is not owned by this ingester`);
      }
    }
    return writeThroughLog(this.bus, batch, (p, o) => this.resultOf(p, o));
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
