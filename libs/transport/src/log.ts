/**
 * The shape Kafka gives us, kept small so an in-process log can stand in for it: records appended
 * to numbered partitions, read from an offset, and a committed offset per consumer group.
 */
export interface PartitionedLog<T> {
  readonly partitions: number;
  /** Appends and resolves with the record's offset once it is accepted. */
  append(partition: number, value: T): Promise<number>;
  /** Delivers records from `from` on, one at a time, until the subscription is stopped. */
  consume(
    partition: number,
    from: number,
    handler: (offset: number, value: T) => Promise<void>,
  ): Subscription;
  /** The offset to resume from for a group: one past the last committed record. */
  committed(group: string, partition: number): Promise<number>;
  commit(group: string, partition: number, nextOffset: number): Promise<void>;
  /** One past the newest record of a partition. */
  endOffset(partition: number): number;
  close(): Promise<void>;
}

export interface Subscription {
  /** The next offset this subscription will deliver. */
  readonly position: number;
  /** Resolves once every record appended so far has been handled. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}
