import { TimeSlice } from '@pharos/model';
import { LocalLog, type Subscription } from './log.js';

interface Partition<T> {
  /** Offset of records[0]; records before it were trimmed once every group had committed them. */
  base: number;
  records: T[];
  wake: Array<() => void>;
}

/**
 * The embedded mode's stand-in for Kafka: partitions held in memory, consumers woken on append.
 * Records are trimmed once all groups that ever committed have committed past them.
 */
export class InProcessLog<T> extends LocalLog<T> {
  private readonly parts: Array<Partition<T>>;
  private readonly commits = new Map<string, number[]>();
  private closed = false;

  constructor(readonly partitions: number) {
    super();
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new Error('partition count must be a positive integer');
    this.parts = Array.from({ length: partitions }, () => ({ base: 0, records: [], wake: [] }));
  }

  /** Starts a partition at `base` holding `records`: how a persistent log hands over what it replays. */
  restore(partition: number, base: number, records: T[], commits: ReadonlyMap<string, number>): void {
    const p = this.part(partition);
    p.base = base;
    p.records = records;
    for (const [group, next] of commits) {
      let c = this.commits.get(group);
      if (!c) this.commits.set(group, (c = new Array<number>(this.partitions).fill(0)));
      c[partition] = next;
    }
  }

  /**
   * Drops records before `offset` from memory (a persistent log keeps them on disk and replays
   * them itself after a restart), however far the groups have committed.
   */
  discardBefore(partition: number, offset: number): void {
    const p = this.part(partition);
    const drop = Math.min(offset, p.base + p.records.length) - p.base;
    if (drop > 0) {
      p.records.splice(0, drop);
      p.base += drop;
    }
  }

  /** The smallest offset some group still needs: records before it may be discarded. */
  minCommitted(partition: number): number {
    let min = Infinity;
    for (const c of this.commits.values()) min = Math.min(min, c[partition]);
    return min === Infinity ? 0 : min;
  }

  async append(partition: number, value: T): Promise<number> {
    if (this.closed) throw new Error('log is closed');
    const p = this.part(partition);
    p.records.push(value);
    const waiters = p.wake;
    p.wake = [];
    for (const w of waiters) w();
    return p.base + p.records.length - 1;
  }

  endOffset(partition: number): number {
    const p = this.part(partition);
    return p.base + p.records.length;
  }

  async committed(group: string, partition: number): Promise<number> {
    return this.commits.get(group)?.[partition] ?? this.part(partition).base;
  }

  async commit(group: string, partition: number, nextOffset: number): Promise<void> {
    let c = this.commits.get(group);
    if (!c) {
      c = new Array<number>(this.partitions).fill(0);
      this.commits.set(group, c);
    }
    c[partition] = Math.max(c[partition], nextOffset);
    this.trim(partition);
  }

  consume(
    partition: number,
    from: number,
    handler: (offset: number, value: T) => Promise<void>,
  ): Subscription {
    const p = this.part(partition);
    let position = Math.max(from, p.base);
    let stopped = false;
    let idle: Array<() => void> = [];
    let wakeLoop: (() => void) | null = null;
    const loop = (async () => {
      // A handler that resolves without waiting on I/O would chain every record of a backlog
      // into one run of microtasks; the slice gives the loop back between records.
      const slice = new TimeSlice();
      while (!stopped) {
        if (position < p.base + p.records.length) {
          const value = p.records[position - p.base];
          if (slice.due()) await slice.pause();
          await handler(position, value);
          position++;
          continue;
        }
        const waiting = idle;
        idle = [];
        for (const w of waiting) w();
        await new Promise<void>((resolve) => {
          wakeLoop = resolve;
          p.wake.push(resolve);
        });
        wakeLoop = null;
      }
      for (const w of idle) w();
    })();
    return {
      get position() {
        return position;
      },
      drained: () =>
        position >= p.base + p.records.length || stopped
          ? Promise.resolve()
          : new Promise<void>((resolve) => idle.push(resolve)),
      stop: async () => {
        stopped = true;
        const w = wakeLoop as (() => void) | null;
        if (w) w();
        await loop;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private part(partition: number): Partition<T> {
    const p = this.parts[partition];
    if (!p) throw new Error(`partition ${partition} out of range 0..${this.partitions - 1}`);
    return p;
  }

  private trim(partition: number): void {
    const p = this.parts[partition];
    const drop = Math.min(this.minCommitted(partition), p.base + p.records.length) - p.base;
    if (drop > 0) {
      p.records.splice(0, drop);
      p.base += drop;
    }
  }
}
