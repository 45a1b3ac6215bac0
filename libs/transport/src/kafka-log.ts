import kafkajs, {
  type Admin,
  type Consumer,
  type Kafka,
  type LogEntry,
  type PartitionAssigner,
  type Producer,
} from 'kafkajs';
import type { RecordCodec } from './file-log.js';
import type { KafkaSecurity } from './kafka-security.js';
import { snappyCodec } from './kafka-snappy.js';
import type { GroupSubscription, PartitionedLog } from './log.js';

// kafkajs is CommonJS whose exports Node cannot list for an ES module import: take them off the default.
const { AssignerProtocol, CompressionCodecs, CompressionTypes, logLevel } = kafkajs;
CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;

export type KafkaCompression = 'none' | 'gzip' | 'snappy';

export interface KafkaLogOptions<T> {
  readonly brokers: readonly string[];
  /** TLS and SASL (--kafka.client-config.file); plaintext without. */
  readonly security?: KafkaSecurity;
  readonly topic: string;
  /** The topic's partition count: created with it, and refused when an existing topic differs. */
  readonly partitions: number;
  readonly clientId: string;
  readonly codec: RecordCodec<T>;
  /** The message key of a record (the series hash for samples); none when absent. */
  readonly key?: (value: T) => string | null;
  readonly compression?: KafkaCompression;
  readonly replicationFactor?: number;
  /** Topic-level settings used when the topic is created (for example `retention.ms`). */
  readonly topicConfig?: Readonly<Record<string, string>>;
  /** Milliseconds to wait for a broker on connect and per request. */
  readonly connectionTimeout?: number;
  readonly requestTimeout?: number;
  /** How often kafkajs retries a failed connection or request before giving up (default 8). */
  readonly retries?: number;
  /** How long a send keeps retrying while the broker is away before it fails. */
  readonly sendRetryMs?: number;
  /**
   * How long `append` waits for the acknowledgement before it rejects (default 10 s), so a
   * caller with a client waiting (remote_write) can answer 503 while the send goes on retrying.
   */
  readonly sendTimeoutMs?: number;
  /** kafkajs' own warnings and errors, and handler failures (which are retried). */
  readonly log?: (level: 'error' | 'warn' | 'info', message: string, extra: Record<string, unknown>) => void;
}

const COMPRESSION: Record<KafkaCompression, kafkajs.CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
};

/**
 * A partitioned log on a Kafka topic: the distributed mode's sample and alert bus.
 *
 * Appends go through an idempotent producer with acks=all, one message per record (a record is
 * already a batch of a scrape or a write request). A subscription is a member of its consumer
 * group that reads the partitions it declares (kafkajs cannot assign by hand; the assigner below
 * honours the declarations), resumes from the group's committed offsets and commits only when
 * told to, after the data is durable.
 */
export class KafkaLog<T> implements PartitionedLog<T> {
  readonly partitions: number;
  private readonly ends: number[];
  private readonly consumers = new Set<Consumer>();
  private refresher: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly opts: KafkaLogOptions<T>,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: Producer,
  ) {
    this.partitions = opts.partitions;
    this.ends = new Array<number>(opts.partitions).fill(0);
  }

  /**
   * `open`, tried again until the broker answers: a role started before Kafka (or while it is
   * away) waits, unready, instead of exiting. A refused configuration (a topic with another
   * partition count) is not retried.
   */
  static async openWhenReachable<T>(
    opts: KafkaLogOptions<T>,
    onRetry: (err: Error, waitMs: number) => void,
  ): Promise<KafkaLog<T>> {
    for (let wait = 1000; ; wait = Math.min(wait * 2, 30_000)) {
      try {
        return await KafkaLog.open(opts);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (err instanceof TopicMismatchError) throw err;
        onRetry(err, wait);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Connects, creates the topic when missing (or checks its partition count) and learns the ends. */
  static async open<T>(opts: KafkaLogOptions<T>): Promise<KafkaLog<T>> {
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1)
      throw new Error('partition count must be a positive integer');
    const log = opts.log;
    const kafka = new kafkajs.Kafka({
      clientId: opts.clientId,
      brokers: [...opts.brokers],
      ...(opts.security?.ssl ? { ssl: opts.security.ssl } : {}),
      ...(opts.security?.sasl ? { sasl: opts.security.sasl } : {}),
      connectionTimeout: opts.connectionTimeout ?? 3000,
      requestTimeout: opts.requestTimeout ?? 30000,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: opts.retries ?? 8 },
      logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          if (!log) return;
          const { message, ...extra } = entry;
          log(level <= logLevel.ERROR ? 'error' : level <= logLevel.WARN ? 'warn' : 'info', message, extra);
        },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopic(
        admin,
        opts.topic,
        opts.partitions,
        opts.replicationFactor ?? 1,
        opts.topicConfig ?? {},
      );
      const producer = kafka.producer({
        // Records name their partition; the partitioner is never asked.
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        idempotent: true,
        // Idempotence keeps order only with one request in flight per partition in kafkajs.
        maxInFlightRequests: 1,
        retry: { retries: Math.max(1, Math.round((opts.sendRetryMs ?? 30_000) / 2000)), maxRetryTime: 5000 },
      });
      await producer.connect();
      const l = new KafkaLog(opts, kafka, admin, producer);
      // Right after a topic is created its leaders may not be known everywhere yet ("not the
      // leader for that topic-partition"): that passes, so ask again for a while.
      for (let attempt = 1; ; attempt++) {
        try {
          await l.refreshEnds();
          break;
        } catch (e) {
          if (attempt >= 40) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      // Ends also advance from our own appends and from fetched batches; this catches others'.
      l.refresher = setInterval(() => l.refreshEnds().catch(() => undefined), 5000);
      l.refresher.unref();
      return l;
    } catch (e) {
      await admin.disconnect();
      throw e;
    }
  }

  private async refreshEnds(): Promise<void> {
    for (const o of await this.admin.fetchTopicOffsets(this.opts.topic)) {
      if (o.partition < this.partitions)
        this.ends[o.partition] = Math.max(this.ends[o.partition], Number(o.high));
    }
  }

  async append(partition: number, value: T): Promise<number> {
    if (this.closed) throw new Error('log is closed');
    if (!(partition >= 0 && partition < this.partitions))
      throw new Error(`partition ${partition} out of range 0..${this.partitions - 1}`);
    const bytes = this.opts.codec.encode(value);
    const sent = this.producer.send({
      topic: this.opts.topic,
      acks: -1,
      compression: COMPRESSION[this.opts.compression ?? 'none'],
      messages: [
        {
          partition,
          key: this.opts.key?.(value) ?? null,
          value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        },
      ],
    });
    const limit = this.opts.sendTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`Kafka did not acknowledge the record within ${limit} ms (broker unreachable?)`)),
        limit,
      );
    });
    // A send that outlives the timeout may still land: the caller retries, storage takes the
    // identical resend silently.
    sent.catch(() => undefined);
    const [meta] = await Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
    const offset = Number(meta.baseOffset ?? meta.offset);
    if (offset + 1 > this.ends[partition]) this.ends[partition] = offset + 1;
    return offset;
  }

  async subscribe(
    group: string,
    partitions: readonly number[],
    handler: (partition: number, offset: number, value: T) => Promise<void>,
  ): Promise<GroupSubscription> {
    if (this.closed) throw new Error('log is closed');
    const { topic } = this.opts;
    const wanted = [...new Set(partitions)].sort((a, b) => a - b);
    for (const p of wanted) {
      if (!(p >= 0 && p < this.partitions))
        throw new Error(`partition ${p} out of range 0..${this.partitions - 1}`);
    }
    const consumer = this.kafka.consumer({
      groupId: group,
      partitionAssigners: [declaredPartitions(wanted, this.opts.log)],
      // A member that died (kill -9) holds its partitions until this runs out: keep it short.
      sessionTimeout: 10000,
      heartbeatInterval: 2000,
      maxBytes: 64 << 20,
      maxBytesPerPartition: 32 << 20,
      // A fetch waits this long for data, and stopping waits for the fetch: keep it short.
      maxWaitTimeInMs: 500,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.consumers.add(consumer);
    /** Next offset to hand to the handler per partition, once known. */
    const position = new Map<number, number>();
    let paused = false;
    let idle: Array<() => void> = [];
    const caughtUp = () => wanted.every((p) => (position.get(p) ?? 0) >= this.ends[p]);
    const settle = () => {
      if (!paused && !caughtUp()) return;
      const waiting = idle;
      idle = [];
      for (const w of waiting) w();
    };
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, wanted.length),
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const p = batch.partition;
        const high = Number(batch.highWatermark);
        if (high > this.ends[p]) this.ends[p] = high;
        for (const m of batch.messages) {
          if (!isRunning() || isStale() || paused) return;
          const offset = Number(m.offset);
          // After a rebalance the group resumes from its last commit: skip what we handled.
          if (offset < (position.get(p) ?? 0)) continue;
          await this.handleWithRetry(
            p,
            offset,
            m.value,
            (o, v) => handler(p, o, v),
            () => paused,
          );
          if (paused) return;
          position.set(p, offset + 1);
          resolveOffset(m.offset);
          await heartbeat();
        }
        settle();
      },
    });
    // Where the group resumes, so drained() knows the starting line before the first fetch.
    const resume = await this.committedOffsets(group);
    for (const p of wanted) {
      // Records may have been handled while we asked: those positions are newer.
      if (!position.has(p)) position.set(p, resume.get(p) ?? 0);
    }
    let stopped = false;
    return {
      drained: async () => {
        await this.refreshEnds();
        if (paused || caughtUp()) return;
        await new Promise<void>((resolve) => idle.push(resolve));
      },
      commit: async (partition, nextOffset) => {
        await consumer.commitOffsets([{ topic, partition, offset: String(nextOffset) }]);
      },
      pause: async () => {
        paused = true;
        consumer.pause([{ topic }]);
        settle();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        paused = true;
        settle();
        await consumer.disconnect();
        this.consumers.delete(consumer);
      },
    };
  }

  /**
   * A record the handler cannot take (storage failing) is tried again until it can, rather than
   * skipped: skipping would lose accepted samples, and throwing would have kafkajs restart the
   * consumer from the last commit, re-reading everything since.
   */
  private async handleWithRetry(
    partition: number,
    offset: number,
    raw: Buffer | null,
    handler: (offset: number, value: T) => Promise<void>,
    stopped: () => boolean,
  ): Promise<void> {
    let value: T;
    try {
      value = this.opts.codec.decode(raw ?? new Uint8Array(0));
    } catch (err) {
      // Undecodable bytes will not decode on a retry either: report and move past them.
      this.opts.log?.('error', 'undecodable record skipped', { partition, offset, err: String(err) });
      return;
    }
    for (let wait = 200; !stopped(); wait = Math.min(wait * 2, 5000)) {
      try {
        await handler(offset, value);
        return;
      } catch (err) {
        this.opts.log?.('error', 'record handler failed; retrying', { partition, offset, err: String(err) });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** The group's committed offset of a partition (0 when it has none): for lag and tests. */
  async committed(group: string, partition: number): Promise<number> {
    return (await this.committedOffsets(group)).get(partition) ?? 0;
  }

  /** The group's committed offsets by partition, all in one request; none where it has none. */
  private async committedOffsets(group: string): Promise<Map<number, number>> {
    const res = await this.admin.fetchOffsets({ groupId: group, topics: [this.opts.topic] });
    const out = new Map<number, number>();
    for (const p of res[0]?.partitions ?? [])
      if (Number(p.offset) >= 0) out.set(p.partition, Number(p.offset));
    return out;
  }

  endOffset(partition: number): number {
    return this.ends[partition] ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refresher) clearInterval(this.refresher);
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}

/** The topic exists with another partition count: a configuration error, not an outage. */
export class TopicMismatchError extends Error {}

async function ensureTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  replicationFactor: number,
  config: Readonly<Record<string, string>>,
) {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    } catch (e) {
      // Another service may have created it in the meantime: the check below decides.
      if (!String(e).includes('already exists')) throw e;
    }
  }
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const have = meta.topics[0]?.partitions.length ?? 0;
  if (have !== partitions) {
    throw new TopicMismatchError(
      `Kafka topic ${topic} has ${have} partitions but ${partitions} are configured; the partition count is the shard count and cannot change`,
    );
  }
}

/**
 * An assigner that gives each member the partitions it declared in its metadata: partition
 * ownership is the deployment's decision (flags, membership), not the group protocol's. A
 * partition two members declare goes to the first; one nobody declares is left unread, which
 * the lag metric shows.
 */
function declaredPartitions(
  mine: readonly number[],
  log: KafkaLogOptions<unknown>['log'],
): PartitionAssigner {
  const name = 'PharosDeclaredPartitions';
  return () => ({
    name,
    version: 1,
    async assign({ members, topics }) {
      const taken = new Set<number>();
      return [...members]
        .sort((x, y) => x.memberId.localeCompare(y.memberId))
        .map((m) => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          const declared = meta?.userData ? (JSON.parse(meta.userData.toString('utf8')) as number[]) : [];
          const granted = declared.filter((p) => !taken.has(p));
          if (granted.length < declared.length)
            log?.('warn', 'partition declared by two members of a group; the first keeps it', {
              memberId: m.memberId,
              partitions: declared.filter((p) => !granted.includes(p)),
            });
          for (const p of granted) taken.add(p);
          const assignment: Record<string, number[]> = {};
          for (const t of topics) assignment[t] = granted;
          return {
            memberId: m.memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: 1,
              assignment,
              userData: Buffer.alloc(0),
            }),
          };
        });
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify(mine)),
        }),
      };
    },
  });
}
