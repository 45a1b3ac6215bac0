import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shardOf, splitByPartition, type LabelMatcher, type Labels, type SampleBatch } from '@pharos/model';
import {
  sumAppendResults,
  TSDB,
  type AppendResult,
  type DeleteResult,
  type RetentionResult,
  type StorageAnalysis,
  type StorageStatus,
  type TSDBOptions,
} from './db.js';
import { sortedUnion, type Queryable, type SeriesData } from './queryable.js';

const META = 'shards.json';

/**
 * The shard count a storage directory was made with. It cannot change afterwards: a series'
 * shard is its hash modulo the count, so another count would look for series in the wrong place.
 */
export function storageShardCount(root: string, wanted: number): number {
  const shards = recordedShardCount(root);
  if (shards !== undefined) {
    if (shards !== wanted) {
      throw new Error(
        `storage at ${root} was created with ${shards} shards, not ${wanted}: ` +
          `start with --storage.tsdb.shards=${shards} or use an empty directory`,
      );
    }
    return shards;
  }
  mkdirSync(root, { recursive: true });
  const existing = readdirSync(root).filter((f) => /^shard-\d+$/.test(f)).length;
  if (existing > 0 && existing !== wanted) {
    throw new Error(`storage at ${root} has ${existing} shard directories, not ${wanted}`);
  }
  writeFileSync(join(root, META), JSON.stringify({ shards: wanted }));
  return wanted;
}

/** The shard count recorded in a storage directory, or undefined when there is none. */
export function recordedShardCount(root: string): number | undefined {
  const metaPath = join(root, META);
  if (!existsSync(metaPath)) return undefined;
  return (JSON.parse(readFileSync(metaPath, 'utf8')) as { shards: number }).shards;
}

export function shardPath(root: string, shard: number): string {
  return join(root, `shard-${shard}`);
}

/**
 * N TSDB shards under one directory, each its own LevelDB. A series lives in the shard of its
 * label hash (the partition of the sample bus), so shards never share a series and reads are a
 * plain fan-out and concatenation.
 */
export class ShardedTSDB implements Queryable {
  /**
   * `partitions[i]` is the partition `shards[i]` holds; `total` the partition count of the bus.
   * All of them in embedded mode; an ingester of the distributed mode owns some.
   */
  private constructor(
    readonly shards: readonly TSDB[],
    readonly partitions: readonly number[],
    private readonly total: number,
  ) {}

  /** Damage found and cut off while opening the shards (see TSDB.damage). */
  damage(): string[] {
    return this.shards.flatMap((s) => s.damage);
  }

  /** Shard by partition, as the ingester consumes them. */
  byPartition(): Map<number, TSDB> {
    return new Map(this.partitions.map((p, i) => [p, this.shards[i]]));
  }

  /**
   * The shards of some partitions out of `total`: what one ingester of the distributed mode
   * owns. The directory records the total, which cannot change later.
   */
  static async openPartitions(
    root: string,
    partitions: readonly number[],
    total: number,
    opts: TSDBOptions = {},
  ): Promise<ShardedTSDB> {
    const recorded = recordedShardCount(root);
    if (recorded !== undefined && recorded !== total) {
      throw new Error(`storage at ${root} was created for ${recorded} partitions, not ${total}`);
    }
    for (const p of partitions) {
      if (!Number.isInteger(p) || p < 0 || p >= total)
        throw new Error(`partition ${p} out of range 0..${total - 1}`);
    }
    mkdirSync(root, { recursive: true });
    if (recorded === undefined) writeFileSync(join(root, META), JSON.stringify({ shards: total }));
    const shards = await openAll(
      partitions.map((p) => shardPath(root, p)),
      opts,
    );
    return new ShardedTSDB(shards, [...partitions], total);
  }

  static async open(root: string, count: number, opts: TSDBOptions = {}): Promise<ShardedTSDB> {
    const n = storageShardCount(root, count);
    const ids = Array.from({ length: n }, (_, i) => i);
    return new ShardedTSDB(
      await openAll(
        ids.map((i) => shardPath(root, i)),
        opts,
      ),
      ids,
      n,
    );
  }

  /** The partition (shard) of a series hash. */
  shardFor(hash: string): number {
    return shardOf(hash, this.total);
  }

  /** Old data into its shards (`tsdb create-blocks-from`), outside the heads' bounds. */
  async backfill(batch: SampleBatch): Promise<AppendResult> {
    const parts = this.total === 1 ? [batch] : splitByPartition(batch, this.total);
    const owned = this.byPartition();
    const results = await Promise.all(
      parts.map((b, p) => {
        if (!b) return undefined;
        const shard = owned.get(p);
        if (!shard) throw new Error(`partition ${p} is not held by this storage`);
        return shard.backfill(b);
      }),
    );
    return sumAppendResults(results);
  }

  async checkpoint(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.checkpoint()));
  }

  async deleteRange(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<DeleteResult> {
    const rs = await Promise.all(this.shards.map((s) => s.deleteRange(matchers, mint, maxt)));
    return {
      deletedSamples: rs.reduce((n, r) => n + r.deletedSamples, 0),
      deletedSeries: rs.reduce((n, r) => n + r.deletedSeries, 0),
    };
  }

  /**
   * Writes a copy of the storage to `dest`, laid out as a storage directory of its own, so
   * `--storage.tsdb.path=<dest>` opens it. Shards are copied one after another, each at one point
   * in time.
   */
  async snapshot(dest: string, withHead: boolean): Promise<void> {
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, META), JSON.stringify({ shards: this.total }));
    for (let i = 0; i < this.shards.length; i++)
      await this.shards[i].snapshot(shardPath(dest, this.partitions[i]), withHead);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }

  async applyRetention(timeMs: number, maxBytes: number): Promise<RetentionResult> {
    const total: RetentionResult = { deletedChunks: 0, deletedSeries: 0 };
    for (const s of this.shards) {
      const rs: RetentionResult[] = [];
      if (timeMs > 0) rs.push(await s.applyRetentionTime(timeMs));
      if (maxBytes > 0) rs.push(await s.applyRetentionSize(maxBytes / this.shards.length));
      for (const r of rs) {
        total.deletedChunks += r.deletedChunks;
        total.deletedSeries += r.deletedSeries;
      }
    }
    return total;
  }

  seriesCount(): number {
    return this.shards.reduce((n, s) => n + s.seriesCount(), 0);
  }

  /** Head statistics and label pairs over all shards, for /api/v1/status/tsdb. */
  status(): StorageStatus {
    return mergeStatus(this.shards.map((s) => s.status()));
  }

  /** Each owned partition's head statistics: what an ingester reports to the querier. */
  partitionStatus(): Array<{ partition: number; status: StorageStatus }> {
    return this.partitions.map((partition, i) => ({ partition, status: this.shards[i].status() }));
  }

  async analyze(): Promise<StorageAnalysis> {
    const parts = await Promise.all(this.shards.map((s) => s.analyze()));
    const total: StorageAnalysis = {
      series: 0,
      chunks: 0,
      headChunks: 0,
      samples: 0,
      chunkBytes: 0,
      diskBytes: 0,
      minTime: Infinity,
      maxTime: -Infinity,
      pairs: [],
    };
    for (const p of parts) {
      total.series += p.series;
      total.chunks += p.chunks;
      total.headChunks += p.headChunks;
      total.samples += p.samples;
      total.chunkBytes += p.chunkBytes;
      total.diskBytes += p.diskBytes;
      total.minTime = Math.min(total.minTime, p.minTime);
      total.maxTime = Math.max(total.maxTime, p.maxTime);
    }
    total.pairs = this.status().pairs;
    return total;
  }

  async select(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<SeriesData[]> {
    return (await Promise.all(this.shards.map((s) => s.select(matchers, mint, maxt, signal)))).flat();
  }

  async selectChunks(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Array<{ labels: Labels; chunks: Uint8Array[] }>> {
    return (await Promise.all(this.shards.map((s) => s.selectChunks(matchers, mint, maxt, signal)))).flat();
  }

  async series(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Labels[]> {
    return (await Promise.all(this.shards.map((s) => s.series(matchers, mint, maxt, signal)))).flat();
  }

  async labelNames(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    return sortedUnion(await Promise.all(this.shards.map((s) => s.labelNames(matchers, mint, maxt, signal))));
  }

  async labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    return sortedUnion(
      await Promise.all(this.shards.map((s) => s.labelValues(name, matchers, mint, maxt, signal))),
    );
  }
}

/** Opens shards in parallel (LevelDB recovers on the thread pool), closing all if one fails. */
async function openAll(paths: readonly string[], opts: TSDBOptions): Promise<TSDB[]> {
  const opened = await Promise.allSettled(paths.map((p) => TSDB.open(p, opts)));
  const shards = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(shards.map((s) => s.close()));
    throw failed.reason;
  }
  return shards;
}

/** A snapshot's name as Prometheus makes them: UTC time, then 16 random hex digits. */
export function snapshotName(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(8).toString('hex')}`;
}

/** Whether a name given from outside is one `snapshotName` could have made (it becomes a directory). */
export function isSnapshotName(name: string): boolean {
  return /^\d{8}T\d{6}Z-[0-9a-f]{16}$/.test(name);
}

/** Statistics of shards holding disjoint series, as one store's: counts summed, times widened. */
export function mergeStatus(parts: Iterable<StorageStatus>): StorageStatus {
  const pairs = new Map<string, [string, string, number]>();
  const total: StorageStatus = {
    numSeries: 0,
    chunkCount: 0,
    minTime: Infinity,
    maxTime: -Infinity,
    pairs: [],
  };
  for (const st of parts) {
    total.numSeries += st.numSeries;
    total.chunkCount += st.chunkCount;
    total.minTime = Math.min(total.minTime, st.minTime);
    total.maxTime = Math.max(total.maxTime, st.maxTime);
    for (const [name, value, n] of st.pairs) {
      const key = `${name}\u0000${value}`;
      const cur = pairs.get(key);
      if (cur) cur[2] += n;
      else pairs.set(key, [name, value, n]);
    }
  }
  total.pairs = [...pairs.values()];
  return total;
}
