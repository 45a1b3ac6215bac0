import { getHeapStatistics } from 'node:v8';
import { Counter, type Registry } from 'prom-client';

/** A shard as the limit sees it: the series its head holds. */
export interface HeadShard {
  readonly headSeries: number;
}

/**
 * The V8 heap's share past which new series are refused. Each series holds about 2 KiB of heap;
 * near the limit V8 collects over and over and the process stops answering long before it runs
 * out, and the series held still need room for their scrapes and queries: at 85% the bigtarget
 * bench's heap went on to 95% with no new series.
 */
export const HEAP_REFUSE_FRACTION = 0.75;
const HEAP_CHECK_MS = 100;

export type HeapUse = () => { used: number; limit: number };
const v8HeapUse: HeapUse = () => {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, limit: h.heap_size_limit };
};

/**
 * What may hold back a new series: --storage.tsdb.max-head-series, the most series a process's
 * shards hold together in their heads (0: no limit), and the memory the process has. What memory
 * a process needs is decided by its series; past either bound, a sample of a new series is
 * refused (a scrape's or a remote write's, with the bound named) instead of the process growing
 * until it is killed. Series already held go on as before.
 */
export class HeadSeriesLimit {
  private readonly shards: HeadShard[] = [];
  private heapCheckedAt = -Infinity;
  private heapFull: string | null = null;
  private readonly refused?: Counter<'reason'>;

  constructor(
    readonly max: number,
    registry?: Registry,
    private readonly heapUse: HeapUse = v8HeapUse,
  ) {
    if (registry)
      this.refused = new Counter({
        name: 'pharos_tsdb_head_series_refused_total',
        help: 'New series refused, by the bound that refused them: max_head_series (--storage.tsdb.max-head-series) or memory.',
        labelNames: ['reason'],
        registers: [registry],
      });
  }

  join(shard: HeadShard): void {
    this.shards.push(shard);
  }

  leave(shard: HeadShard): void {
    const i = this.shards.indexOf(shard);
    if (i >= 0) this.shards.splice(i, 1);
  }

  /** Why one more series may not be made, or null when it may; a refusal is counted. */
  refusal(): string | null {
    if (this.max > 0) {
      let n = 0;
      for (const s of this.shards) n += s.headSeries;
      if (n >= this.max) {
        this.refused?.inc({ reason: 'max_head_series' });
        return `head series limit of ${this.max} reached (--storage.tsdb.max-head-series)`;
      }
    }
    const now = performance.now();
    if (now - this.heapCheckedAt >= HEAP_CHECK_MS) {
      this.heapCheckedAt = now;
      const { used, limit } = this.heapUse();
      this.heapFull =
        used >= HEAP_REFUSE_FRACTION * limit
          ? `memory limit reached: the heap holds ${mib(used)} of the ${mib(limit)} it may grow to (node --max-old-space-size); set --storage.tsdb.max-head-series below the series this process can hold`
          : null;
    }
    if (this.heapFull !== null) this.refused?.inc({ reason: 'memory' });
    return this.heapFull;
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
