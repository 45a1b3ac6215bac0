/** What was last sent to one integration of a receiver for one aggregation group. */
export interface NflogEntry {
  readonly groupKey: string;
  /** `receiver/integration/index`, as upstream's nflogpb.Receiver. */
  readonly receiver: string;
  readonly firing: readonly string[];
  readonly resolved: readonly string[];
  readonly timestamp: number;
  readonly expiresAt: number;
}

export type NflogListener = (e: NflogEntry) => void;

/** The notification log: deduplicates notifications across flushes, restarts and replicas. */
export class NotificationLog {
  private readonly entries = new Map<string, NflogEntry>();
  private readonly listeners = new Set<NflogListener>();

  constructor(
    private readonly now: () => number,
    private readonly retention = 120 * 3600_000,
  ) {}

  private static key(groupKey: string, receiver: string): string {
    return `${receiver}\u0000${groupKey}`;
  }

  query(groupKey: string, receiver: string): NflogEntry | undefined {
    return this.entries.get(NotificationLog.key(groupKey, receiver));
  }

  log(
    groupKey: string,
    receiver: string,
    firing: readonly string[],
    resolved: readonly string[],
  ): NflogEntry {
    const now = this.now();
    const e: NflogEntry = {
      groupKey,
      receiver,
      firing: [...firing].sort(),
      resolved: [...resolved].sort(),
      timestamp: now,
      expiresAt: now + this.retention,
    };
    this.entries.set(NotificationLog.key(groupKey, receiver), e);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** An entry from a peer or a snapshot; the newer one wins. */
  merge(e: NflogEntry): boolean {
    const k = NotificationLog.key(e.groupKey, e.receiver);
    const prev = this.entries.get(k);
    if (prev && prev.timestamp >= e.timestamp) return false;
    this.entries.set(k, e);
    return true;
  }

  list(): NflogEntry[] {
    return [...this.entries.values()];
  }

  onChange(fn: NflogListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  gc(): number {
    const now = this.now();
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }
}
