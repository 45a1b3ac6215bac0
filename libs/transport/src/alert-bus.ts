import { KafkaLog } from './kafka-log.js';
import type { KafkaSecurity } from './kafka-security.js';
import type { RecordCodec } from './file-log.js';
import type { GroupSubscription, PartitionedLog } from './log.js';
import { RetryWait } from './retry-wait.js';

/**
 * An alert as the ruler hands it to the alertmanager: Alertmanager API v2's postableAlert with
 * times in Unix milliseconds (0: not set).
 */
export interface BusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly generatorURL: string;
}

function stringRecord(v: unknown, what: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: not an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new Error(`${what}.${k}: not a string`);
    out[k] = x;
  }
  return out;
}

function time(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: not a time in milliseconds`);
  return v;
}

/**
 * Records are JSON arrays of alerts: alerts are few and small, and JSON keeps the topic readable
 * with Kafka's own console consumer. A record that does not decode is refused whole.
 */
export const alertBatchCodec: RecordCodec<BusAlert[]> = {
  encode: (alerts) => new TextEncoder().encode(JSON.stringify(alerts)),
  decode(bytes) {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!Array.isArray(parsed)) throw new Error('alert record: not a JSON array');
    return parsed.map((a: unknown, i) => {
      if (typeof a !== 'object' || a === null) throw new Error(`alert record [${i}]: not an object`);
      const o = a as Record<string, unknown>;
      return {
        labels: stringRecord(o.labels, `alert record [${i}].labels`),
        annotations: stringRecord(o.annotations ?? {}, `alert record [${i}].annotations`),
        startsAt: time(o.startsAt ?? 0, `alert record [${i}].startsAt`),
        endsAt: time(o.endsAt ?? 0, `alert record [${i}].endsAt`),
        generatorURL: typeof o.generatorURL === 'string' ? o.generatorURL : '',
      };
    });
  },
};

export interface AlertBusOptions {
  /** Alerts held while the log refuses appends; past it the oldest are dropped. */
  readonly capacity?: number;
  /** Alerts per record. */
  readonly maxBatch?: number;
  readonly onDrop?: (alerts: number) => void;
  readonly onError?: (err: unknown) => void;
}

/**
 * The alert bus: the ruler publishes, every alertmanager replica consumes all of it (each in a
 * group of its own, as a Prometheus sends to every replica) and the replicas deduplicate
 * notifications between them. One partition, so alerts arrive in the order they were sent.
 *
 * Publishing never waits for the log: alerts queue within a bound and one sender forwards them,
 * retrying with backoff. Dropping the oldest when full is safe, since the ruler sends every
 * active alert again after its resend delay.
 */
export class AlertBus {
  private queue: BusAlert[] = [];
  private sending: Promise<void> | null = null;
  private idle: Array<() => void> = [];
  private closed = false;
  private readonly retryWait = new RetryWait();
  private readonly capacity: number;
  private readonly maxBatch: number;

  private readonly log: Promise<PartitionedLog<BusAlert[]>>;

  /**
   * `log` may still be opening (a broker not yet reachable): alerts published meanwhile wait in
   * the queue.
   */
  constructor(
    log: PartitionedLog<BusAlert[]> | Promise<PartitionedLog<BusAlert[]>>,
    private readonly opts: AlertBusOptions = {},
  ) {
    this.log = Promise.resolve(log);
    this.log.catch(() => undefined);
    this.capacity = opts.capacity ?? 10_000;
    this.maxBatch = opts.maxBatch ?? 256;
  }

  /** Alerts waiting to be appended. */
  get queued(): number {
    return this.queue.length;
  }

  publish(alerts: readonly BusAlert[]): void {
    if (this.closed || alerts.length === 0) return;
    this.queue.push(...alerts);
    if (this.queue.length > this.capacity) {
      const over = this.queue.length - this.capacity;
      this.queue.splice(0, over);
      this.opts.onDrop?.(over);
    }
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
      for (const w of this.idle.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    let wait = 500;
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue.slice(0, this.maxBatch);
      try {
        await (await this.log).append(0, batch);
        // Alerts dropped while the append was in flight shift the queue: remove what was sent.
        const sent = this.queue.indexOf(batch[batch.length - 1]);
        this.queue.splice(0, sent + 1);
        wait = 500;
      } catch (err) {
        this.opts.onError?.(err);
        await this.retryWait.sleep(wait);
        wait = Math.min(wait * 2, 10_000);
      }
    }
  }

  /** Resolves once everything queued has been appended (or the bus closed). */
  async flushed(): Promise<void> {
    if (!this.sending) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /**
   * Hands every record to `handler` for `group` from its committed offset, committing after the
   * handler returns: an alertmanager that restarts resumes where it left off.
   */
  async subscribe(
    group: string,
    handler: (alerts: BusAlert[]) => void | Promise<void>,
  ): Promise<GroupSubscription> {
    // Records can arrive before subscribe returns the subscription that commits them.
    let subscribed!: (s: GroupSubscription) => void;
    const ready = new Promise<GroupSubscription>((r) => (subscribed = r));
    const sub = await (
      await this.log
    ).subscribe(group, [0], async (_p, offset, alerts) => {
      await handler(alerts);
      await (await ready).commit(0, offset + 1);
    });
    subscribed(sub);
    return sub;
  }

  /** Tries to send what is queued for up to `graceMs`, then stops; the log stays the caller's. */
  async close(graceMs = 5000): Promise<void> {
    if (this.sending) {
      await Promise.race([this.flushed(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.closed = true;
    this.retryWait.interrupt();
    // Not waiting for the sender: it may be waiting for a log that never opened.
  }
}

export interface AlertTopic {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly security?: KafkaSecurity;
}

interface RoleLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * The alert topic as a role opens it. Records are kept an hour: an alertmanager starting in a new
 * group reads at most that much history, and the ruler resends active alerts long before.
 */
export function openAlertTopic(
  t: AlertTopic,
  clientId: string,
  logger: RoleLogger,
): Promise<KafkaLog<BusAlert[]>> {
  return KafkaLog.openWhenReachable(
    {
      brokers: t.brokers,
      security: t.security,
      topic: t.topic,
      partitions: 1,
      clientId,
      codec: alertBatchCodec,
      compression: 'gzip',
      topicConfig: { 'retention.ms': String(3_600_000) },
      log: (level, message, extra) => logger[level](extra, `kafka: ${message}`),
    },
    (err, waitMs) => logger.warn({ err: err.message, retryInMs: waitMs }, 'Kafka unreachable; trying again'),
  );
}
