/**
 * The shape Kafka gives us, kept small so an in-process log can stand in for it: records appended
 * to numbered partitions, consumed by a group from its committed offsets.
 */
export interface PartitionedLog<T> {
  readonly partitions: number;
  /** Appends and resolves with the record's offset once it is accepted. */
  append(partition: number, value: T): Promise<number>;
  /**
   * Consumes `partitions` for `group`, each from the group's committed offset (from the start
   * when none), one record at a time per partition, until stopped.
   */
  subscribe(
    group: string,
    partitions: readonly number[],
    handler: (partition: number, offset: number, value: T) => Promise<void>,
  ): Promise<GroupSubscription>;
  /** One past the newest record of a partition, as far as this process knows. */
  endOffset(partition: number): number;
  close(): Promise<void>;
}

export interface GroupSubscription {
  /** Resolves once every record appended so far to the subscribed partitions has been handled. */
  drained(): Promise<void>;
  /** Commits the group's offset of a subscribed partition: one past the last durable record. */
  commit(partition: number, nextOffset: number): Promise<void>;
  /** Stops handling records; commits still work until `stop` (Kafka: the member stays in its group). */
  pause(): Promise<void>;
  stop(): Promise<void>;
}

export interface Subscription {
  /** The next offset this subscription will deliver. */
  readonly position: number;
  /** Resolves once every record appended so far has been handled. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local logs (in memory, on disk): they read from any offset and keep commits themselves, so
 * a group subscription is one reader per partition starting at the group's commit.
 */
export abstract class LocalLog<T> implements PartitionedLog<T> {
  abstract readonly partitions: number;
  abstract append(partition: number, value: T): Promise<number>;
  abstract endOffset(partition: number): number;
  abstract close(): Promise<void>;
  abstract consume(
    partition: number,
    from: number,
    handler: (offset: number, value: T) => Promise<void>,
  ): Subscription;
  abstract committed(group: string, partition: number): Promise<number>;
  abstract commit(group: string, partition: number, nextOffset: number): Promise<void>;

  async subscribe(
    group: string,
    partitions: readonly number[],
    handler: (partition: number, offset: number, value: T) => Promise<void>,
  ): Promise<GroupSubscription> {
    const subs: Subscription[] = [];
    for (const p of partitions) {
      const from = await this.committed(group, p);
      subs.push(this.consume(p, from, (offset, value) => handler(p, offset, value)));
    }
    const stop = async () => {
      await Promise.all(subs.map((s) => s.stop()));
    };
    return {
      drained: async () => {
        await Promise.all(subs.map((s) => s.drained()));
      },
      commit: (partition, nextOffset) => this.commit(group, partition, nextOffset),
      pause: stop,
      stop,
    };
  }
}
