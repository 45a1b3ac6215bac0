import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import {
  formatLabels,
  formatValue,
  labelsEqual,
  MAX_AHEAD_MS,
  setLabelsSlot,
  TimeSlice,
  validateSeriesLabels,
  type Label,
  type LabelMatcher,
  type Labels,
  type SampleBatch,
  type Slotted,
} from '@pharos/model';
import {
  chunkSampleCount,
  decodeXorInto,
  MAX_SAMPLES_PER_CHUNK,
  XOR_APPENDER_SLOTS,
  XorAppender,
  XorIterator,
} from './chunkenc/xor.js';
import {
  chunkKey,
  chunkRange,
  chunksBefore,
  headsKey,
  kindRange,
  KIND_CHUNK,
  KIND_HEAD,
  KIND_HEADS,
  KIND_MAXTIME,
  KIND_OOO,
  KIND_POSTING,
  KIND_SERIES,
  maxTimeKey,
  metaKey,
  oooChunkKey,
  readTime,
  refOf,
  seriesKey,
  writeTime,
} from './keys.js';
import { MemPostings } from './postings.js';
import type { HeadSeriesLimit } from './series-limit.js';
import type { Queryable, SeriesData } from './queryable.js';

/** Chunks are cut at 2h boundaries as well as at 120 samples, as Prometheus' head does. */
export const CHUNK_RANGE_MS = 2 * 3600_000;
/**
 * With no out-of-order window the head takes nothing older than its newest sample less half a
 * block range (Prometheus' appendableMinValidTime): a timestamp of 0, or hours old, is out of
 * bounds.
 */
const HEAD_APPENDABLE_MS = CHUNK_RANGE_MS / 2;

const HEAD_PIECE_BYTES = 4 * 1024 * 1024;

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

class MemSeries {
  app: XorAppender | null = null;
  /**
   * The series' doubles in one typed array, not fields, each of which would be a heap number of
   * its own for the garbage collector to mark, 100k series over: chunk end, newest sample time
   * (-Infinity for a new series), the newest value's two halves (to tell an identical resend
   * from a conflicting duplicate), the head chunk's first sample time, first sample time.
   * Slots 1 to 4 are the head appender's state (its newest sample is the series' newest), so an
   * append touches one array, not two. Six doubles stay within the 64 bytes V8 keeps on the heap;
   * a larger array gets a malloc'd backing store, and appends were twice as slow.
   */
  private readonly d = new Float64Array(2 + XOR_APPENDER_SLOTS);
  get chunkEnd(): number {
    return this.d[0];
  }
  set chunkEnd(v: number) {
    this.d[0] = v;
  }
  get lastT(): number {
    return this.d[1];
  }
  get minT(): number {
    return this.d[5];
  }
  set minT(v: number) {
    this.d[5] = v;
  }

  /** At open: the newest sealed chunk ends at `t` (its value bits are not needed). */
  noteStoredUntil(t: number): void {
    this.d[1] = t;
  }

  /** The newest sample's value, for a conflicting duplicate's error (valid while a head is open). */
  lastValue(): number {
    bitsView.setUint32(0, this.d[2]);
    bitsView.setUint32(4, this.d[3]);
    return bitsView.getFloat64(0);
  }

  /** The newest sample in the head has exactly these value bits. */
  sameAsLast(v: number): boolean {
    bitsView.setFloat64(0, v);
    return this.app !== null && bitsView.getUint32(0) === this.d[2] && bitsView.getUint32(4) === this.d[3];
  }

  /** The head changed since the last checkpoint. */
  dirty = false;
  /** Out-of-order chunks exist, so reads must merge overlapping chunks. */
  hasOOO = false;
  /** Removed (retention, delete_series): a label set still mapped to it must look again. */
  forgotten = false;
  /**
   * Max times of the stored in-order chunks, ascending: their keys, so a read fetches exactly
   * the chunks it needs in one multi-get instead of opening an iterator per series.
   */
  chunkMaxTs: number[] = [];

  constructor(
    readonly owner: TSDB,
    readonly ref: number,
    readonly labels: Labels,
    readonly hash: string,
    minT: number,
  ) {
    this.d[1] = -Infinity;
    this.minT = minT;
  }

  /**
   * A new head chunk's appender, whose appends also note the series' newest sample. The previous
   * appender must be done with (sealed or dropped).
   */
  newAppender(): XorAppender {
    return new XorAppender(this.d, 1);
  }
}

/** An append's LevelDB batches: bounded, so handing one over is a few milliseconds. */
const APPEND_BATCH_OPS = 16_384;

/** The series a label set was last appended as, in the shard that holds it. */
const SERIES_SLOT = Symbol('pharos.tsdb.series');

export interface TSDBOptions {
  /** Samples this much older than the newest sample of the shard are still accepted (0: none). */
  outOfOrderTimeWindowMs?: number;
  /** The head series cap this shard shares with the process's other shards. */
  seriesLimit?: HeadSeriesLimit;
}

export interface AppendResult {
  appended: number;
  outOfOrder: number;
  duplicate: number;
  invalid: number;
  /** Older than the head takes: its newest sample less an hour, with no out-of-order window. */
  outOfBounds: number;
  /** Older than the out-of-order window allows. */
  tooOld: number;
  /** The first rejection's reason, in upstream's words with the series named. */
  firstError: string | undefined;
}

export function emptyAppendResult(): AppendResult {
  return {
    appended: 0,
    outOfOrder: 0,
    duplicate: 0,
    invalid: 0,
    outOfBounds: 0,
    tooOld: 0,
    firstError: undefined,
  };
}

/** Samples a result refused, whatever the reason. */
export function rejectedSamples(r: AppendResult): number {
  return r.outOfOrder + r.duplicate + r.invalid + r.outOfBounds + r.tooOld;
}

/** The results of appends to several shards or partitions as one. */
export function sumAppendResults(results: ReadonlyArray<AppendResult | undefined>): AppendResult {
  const total = emptyAppendResult();
  for (const r of results) {
    if (!r) continue;
    total.appended += r.appended;
    total.outOfOrder += r.outOfOrder;
    total.duplicate += r.duplicate;
    total.invalid += r.invalid;
    total.outOfBounds += r.outOfBounds;
    total.tooOld += r.tooOld;
    total.firstError ??= r.firstError;
  }
  return total;
}

export interface TSDBStats {
  series: number;
  headChunks: number;
  minTime: number;
  maxTime: number;
}

export interface DeleteResult {
  deletedSamples: number;
  deletedSeries: number;
}

export interface RetentionResult {
  deletedChunks: number;
  deletedSeries: number;
}

/** Head statistics and label pairs, as /api/v1/status/tsdb reports them. */
export interface StorageStatus {
  numSeries: number;
  chunkCount: number;
  minTime: number;
  maxTime: number;
  /** [label name, value, series] for every label pair. */
  pairs: Array<[string, string, number]>;
}

export interface StorageAnalysis {
  series: number;
  chunks: number;
  headChunks: number;
  samples: number;
  chunkBytes: number;
  diskBytes: number;
  minTime: number;
  maxTime: number;
  /** [name, value, series] for every label pair. */
  pairs: Array<[string, string, number]>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bitsView = new DataView(new ArrayBuffer(8));

/** Bytes of the files in a directory: what a size-based retention limit is measured against. */
export function directoryBytes(path: string): number {
  let total = 0;
  for (const f of readdirSync(path)) {
    try {
      const st = statSync(join(path, f));
      if (st.isFile()) total += st.size;
    } catch {
      // LevelDB removes files while compacting; a vanished file holds no bytes.
    }
  }
  return total;
}

/**
 * One shard of time series storage: head chunks in memory, sealed chunks, series and postings in
 * LevelDB. Writes (appends, checkpoints, retention) are serialised; reads run alongside them.
 */
/**
 * LevelDB does not fail an open over a damaged log or table block: it drops the block and says
 * so only in its info LOG, which it starts afresh at every open. Reading it back is the one way
 * to tell the operator that data was lost.
 */
function damageReported(path: string): string[] {
  let log: string;
  try {
    log = readFileSync(join(path, 'LOG'), 'utf8');
  } catch {
    return [];
  }
  return log
    .split('\n')
    .filter((l) => /Corruption|dropping \d+ bytes/.test(l))
    .map((l) => l.replace(/^\S+ \S+ /, ''));
}

export class TSDB implements Queryable {
  private readonly byHash = new Map<string, MemSeries | MemSeries[]>();
  private readonly byRef = new Map<number, MemSeries>();
  private readonly postings = new MemPostings();
  private nextRef = 1;
  private oooSeq = 0;
  /** Newest sample time in the shard: the out-of-order window is measured back from it. */
  private maxT = -Infinity;
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /**
   * Writes that LevelDB refused (a full disk): memory already reflects them, so they are retried
   * ahead of the next write. Each is a whole key's value, so writing it late is still right.
   */
  private pendingOps: BatchOp[] = [];
  /**
   * Set when LevelDB refused a write. Its log writer counts the bytes of a record it could not
   * write as written, so every later record in that log file sits at the wrong offset and is
   * dropped as corrupt at the next open: a full disk would silently lose every write after it.
   * Reopening first makes LevelDB recover the log up to the torn record and start a new one.
   */
  private reopenBeforeWrite = false;
  /**
   * Head checkpoint keys that may be in LevelDB: the last generation written, any whose write
   * is still pending, and old-format head keys. The next checkpoint deletes them all.
   */
  private headKeys: Uint8Array[] = [];
  private headGen = 0;
  /** Damage LevelDB found and cut off while opening, in its own words (from its LOG). */
  damage: readonly string[] = [];

  private constructor(
    private readonly db: Db,
    readonly path: string,
    private readonly oooWindow: number,
    private readonly seriesLimit?: HeadSeriesLimit,
  ) {
    seriesLimit?.join(this);
  }

  /** Series this shard holds. */
  get headSeries(): number {
    return this.byRef.size;
  }

  static async open(path: string, opts: TSDBOptions = {}): Promise<TSDB> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') throw new Error(`storage at ${path} is in use by another process`);
      throw new Error(`cannot open storage at ${path}: ${cause?.message ?? (e as Error).message}`);
    }
    const tsdb = new TSDB(db, path, opts.outOfOrderTimeWindowMs ?? 0, opts.seriesLimit);
    tsdb.damage = damageReported(path);
    try {
      await tsdb.load();
    } catch (e) {
      await db.close();
      throw e;
    }
    return tsdb;
  }

  private async load(): Promise<void> {
    for await (const [key, value] of this.scan(kindRange(KIND_SERIES))) {
      const rec = JSON.parse(dec.decode(value)) as { l: string[]; t: number; h: string };
      const labels: Label[] = [];
      for (let i = 0; i < rec.l.length; i += 2) labels.push({ name: rec.l[i], value: rec.l[i + 1] });
      const s = new MemSeries(this, refOf(key), labels, rec.h, rec.t);
      this.remember(s);
      this.postings.add(s.ref, labels);
      this.nextRef = Math.max(this.nextRef, s.ref + 1);
    }
    // Stores of earlier versions also kept a posting key per label of each series; the series
    // records hold the same index, so those keys are dropped (on an empty range, a single seek).
    await this.db.clear(kindRange(KIND_POSTING));
    for await (const [key, value] of this.scan(kindRange(KIND_MAXTIME))) {
      const s = this.byRef.get(refOf(key));
      s?.noteStoredUntil(readTime(value, 0));
    }
    for await (const key of this.scanKeys(kindRange(KIND_CHUNK))) {
      this.byRef.get(refOf(key))?.chunkMaxTs.push(readTime(key, 5));
    }
    for await (const key of this.scanKeys(kindRange(KIND_OOO))) {
      const s = this.byRef.get(refOf(key));
      if (s) s.hasOOO = true;
      this.oooSeq = Math.max(this.oooSeq, new DataView(key.buffer, key.byteOffset).getUint32(13) + 1);
    }
    for await (const [key, value] of this.scan(kindRange(KIND_HEAD))) {
      this.headKeys.push(key);
      const s = this.byRef.get(refOf(key));
      if (s) this.restoreHead(s, readTime(value, 0), value.subarray(8));
    }
    // Generations are written whole in one batch and replace the one before: read the newest.
    const pieces: Uint8Array[] = [];
    for await (const [key, value] of this.scan(kindRange(KIND_HEADS))) {
      this.headKeys.push(key);
      const gen = refOf(key);
      if (gen > this.headGen) {
        this.headGen = gen;
        pieces.length = 0;
      }
      pieces.push(value);
    }
    for (const piece of pieces) {
      const dv = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
      for (let o = 0; o < piece.length;) {
        const ref = dv.getUint32(o);
        const len = dv.getUint32(o + 12);
        const s = this.byRef.get(ref);
        if (s) this.restoreHead(s, readTime(piece, o + 4), piece.subarray(o + 16, o + 16 + len));
        o += 16 + len;
      }
    }
    for (const s of this.byRef.values()) if (s.lastT > this.maxT) this.maxT = s.lastT;
  }

  /**
   * A checkpointed head: its samples after the newest sealed chunk. A head sealed after its
   * checkpoint has none left; the write-ahead log replays what came after.
   */
  private restoreHead(s: MemSeries, chunkEnd: number, chunk: Uint8Array): void {
    // The appender's state is not serialised: replaying the samples rebuilds it exactly.
    const app = s.newAppender();
    const it = new XorIterator(chunk);
    while (it.next()) {
      if (it.t <= s.lastT) continue;
      app.append(it.t, it.v); // notes the series' newest sample too: see newAppender
    }
    if (app.count === 0) return;
    s.app = app;
    s.chunkEnd = chunkEnd;
  }

  /** Iterates a range in batches: one native call per thousand entries rather than per entry. */
  private async *scan(range: { gte: Uint8Array; lt: Uint8Array }): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const it = this.db.iterator(range);
    try {
      for (let batch = await it.nextv(1000); batch.length > 0; batch = await it.nextv(1000)) yield* batch;
    } finally {
      await it.close();
    }
  }

  private async *scanKeys(range: { gte: Uint8Array; lt: Uint8Array }): AsyncGenerator<Uint8Array> {
    const it = this.db.keys(range);
    try {
      for (let batch = await it.nextv(1000); batch.length > 0; batch = await it.nextv(1000)) yield* batch;
    } finally {
      await it.close();
    }
  }

  private remember(s: MemSeries): void {
    this.byRef.set(s.ref, s);
    const cur = this.byHash.get(s.hash);
    if (cur === undefined) this.byHash.set(s.hash, s);
    else if (Array.isArray(cur)) cur.push(s);
    else this.byHash.set(s.hash, [cur, s]);
  }

  private forget(s: MemSeries): void {
    s.forgotten = true;
    this.byRef.delete(s.ref);
    const cur = this.byHash.get(s.hash);
    if (cur === s) this.byHash.delete(s.hash);
    else if (Array.isArray(cur)) {
      const rest = cur.filter((x) => x !== s);
      if (rest.length === 1) this.byHash.set(s.hash, rest[0]);
      else this.byHash.set(s.hash, rest);
    }
  }

  private lookup(labels: Labels, hash: string): MemSeries | undefined {
    const known = (labels as Slotted<MemSeries>)[SERIES_SLOT];
    if (known !== undefined && known.owner === this && !known.forgotten) return known;
    const cur = this.byHash.get(hash);
    if (cur === undefined) return undefined;
    const s = !Array.isArray(cur)
      ? labelsEqual(cur.labels, labels)
        ? cur
        : undefined
      : cur.find((x) => labelsEqual(x.labels, labels));
    if (s !== undefined) setLabelsSlot(labels, SERIES_SLOT, s);
    return s;
  }

  /** Runs a write after every earlier one; a failed write does not stop later ones. */
  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(() => {
      if (this.closed) throw new Error('TSDB is closed');
      return fn();
    });
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Appends a batch; resolves once every new series, posting and sealed chunk it produced is in
   * LevelDB. Head samples become durable at the next checkpoint; until then the write-ahead log
   * (or the Kafka offset) holds them. Samples that break the write rules are counted, not stored.
   */
  append(batch: SampleBatch): Promise<AppendResult> {
    return this.serialise(() => this.appendNow(batch, true));
  }

  /**
   * Appends old data (`tsdb create-blocks-from`): the head's bounds do not apply, as upstream's
   * backfill writes blocks of its own; each series still takes its samples in order.
   */
  backfill(batch: SampleBatch): Promise<AppendResult> {
    return this.serialise(() => this.appendNow(batch, false));
  }

  private async appendNow(batch: SampleBatch, headBounds: boolean): Promise<AppendResult> {
    const res = emptyAppendResult();
    const ops: BatchOp[] = [];
    const resolved: Array<MemSeries | null | undefined> = new Array(batch.series.length);
    let ooo: Map<MemSeries, Array<[number, number]>> | undefined;
    const newRefStart = this.nextRef;
    // Fixed for the batch, as upstream fixes them when an appender is made.
    const headMaxT = this.headMaxT();
    const minValid = headBounds ? headMaxT - HEAD_APPENDABLE_MS : -Infinity;
    const oooFloor = headMaxT - this.oooWindow;
    const refuse = (idx: number, kind: 'outOfBounds' | 'tooOld', reason: string) => {
      res[kind]++;
      res.firstError ??= `${reason} for series ${formatLabels(batch.series[idx])}`;
    };
    // A batch of a million new series is seconds of work: the loop is given back between slices.
    // Appends, checkpoints and retention are serialised, so none runs in the pauses; a read may,
    // and sees the samples appended so far, each series' head whole.
    const slice = new TimeSlice();
    for (let i = 0; i < batch.refs.length; i++) {
      if ((i & 255) === 255 && slice.due()) await slice.pause();
      const idx = batch.refs[i];
      let s = resolved[idx];
      const t = batch.timestamps[i];
      // Before the series is looked up or made: a refused sample leaves no empty series behind.
      if (t < minValid && !(this.oooWindow > 0 && t >= oooFloor)) {
        if (this.oooWindow > 0) refuse(idx, 'tooOld', 'too old sample');
        else refuse(idx, 'outOfBounds', 'out of bounds');
        continue;
      }
      if (s === undefined) {
        const labels = batch.series[idx];
        s = this.lookup(labels, batch.hashes[idx]) ?? null;
        if (s === null) {
          const problem = validateSeriesLabels(labels);
          if (problem !== null) {
            resolved[idx] = null;
            res.invalid++;
            res.firstError ??= problem;
            continue;
          }
          const full = this.seriesLimit?.refusal() ?? null;
          if (full !== null) {
            resolved[idx] = null;
            res.invalid++;
            res.firstError ??= `${full}: new series ${formatLabels(labels)} refused`;
            continue;
          }
          s = this.createSeries(labels, batch.hashes[idx], t, ops);
        }
        resolved[idx] = s;
      }
      if (s === null) {
        res.invalid++;
        continue;
      }
      const v = batch.values[i];
      if (t <= s.lastT) {
        if (t === s.lastT) {
          // An identical resend (same time and value bits) is accepted silently, as upstream.
          if (s.sameAsLast(v)) continue;
          res.duplicate++;
          res.firstError ??=
            s.app === null
              ? `duplicate sample for timestamp ${t} for series ${formatLabels(s.labels)}`
              : `duplicate sample for timestamp ${t}; overrides not allowed: existing ${formatValue(s.lastValue())}, new value ${formatValue(v)} for series ${formatLabels(s.labels)}`;
        } else if (this.oooWindow > 0 && t >= oooFloor) {
          ooo ??= new Map();
          let list = ooo.get(s);
          if (!list) ooo.set(s, (list = []));
          list.push([t, v]);
          res.appended++;
        } else if (this.oooWindow > 0) {
          refuse(idx, 'tooOld', 'too old sample');
        } else {
          res.outOfOrder++;
          res.firstError ??= `out of order sample for series ${formatLabels(s.labels)}`;
        }
        continue;
      }
      if (s.app === null || s.app.count >= MAX_SAMPLES_PER_CHUNK || t >= s.chunkEnd) {
        this.seal(s, ops);
        s.app = s.newAppender();
        s.chunkEnd = (Math.floor(t / CHUNK_RANGE_MS) + 1) * CHUNK_RANGE_MS;
      }
      s.app.append(t, v); // notes (t, v) as the series' newest sample too: see newAppender
      s.dirty = true;
      if (t > this.maxT) this.maxT = t;
      res.appended++;
    }
    if (ooo) for (const [s, samples] of ooo) this.writeOutOfOrder(s, samples, ops);
    if (this.nextRef !== newRefStart) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, this.nextRef);
      ops.push({ type: 'put', key: metaKey('nextRef'), value: b });
    }
    await this.write(ops, APPEND_BATCH_OPS);
    return res;
  }

  /**
   * Whatever an earlier failed write left, then `ops`: in one LevelDB batch, or in batches of at
   * most `batchOps` when the ops need not land together. Handing LevelDB a batch is synchronous
   * in its size (five million ops for a million new series held the loop for 3 s). On failure,
   * the ops not yet written wait for the next write.
   */
  private async write(ops: BatchOp[], batchOps = Infinity): Promise<void> {
    let all = this.pendingOps.length > 0 ? [...this.pendingOps, ...ops] : ops;
    while (all.length > 0) {
      const part = all.length <= batchOps ? all : all.slice(0, batchOps);
      try {
        await this.guarded(() => this.db.batch(part));
      } catch (e) {
        this.pendingOps = all;
        throw e;
      }
      all = part === all ? [] : all.slice(batchOps);
    }
    this.pendingOps = [];
  }

  /** A LevelDB write, after the reopen an earlier refused write calls for. */
  private async guarded(op: () => Promise<void>): Promise<void> {
    if (this.reopenBeforeWrite) {
      // Reads in flight lose their iterators; they fail with an error rather than a wrong answer.
      await this.db.close();
      await this.db.open();
      this.reopenBeforeWrite = false;
    }
    try {
      await op();
    } catch (e) {
      this.reopenBeforeWrite = true;
      throw e;
    }
  }

  private createSeries(labels: Labels, hash: string, t: number, ops: BatchOp[]): MemSeries {
    const s = new MemSeries(this, this.nextRef++, labels, hash, t);
    this.remember(s);
    this.postings.add(s.ref, labels);
    // One key per new series: the label index is rebuilt from the series records at open, as
    // upstream's head rebuilds its postings from the WAL's series records. A posting key per label
    // as well was six LevelDB ops more per series, most of the cost of a million new series.
    ops.push({ type: 'put', key: seriesKey(s.ref), value: this.seriesRecord(s) });
    return s;
  }

  private seriesRecord(s: MemSeries): Uint8Array {
    const flat: string[] = [];
    for (const l of s.labels) flat.push(l.name, l.value);
    return enc.encode(JSON.stringify({ l: flat, t: s.minT, h: s.hash }));
  }

  /**
   * Out-of-order samples of one batch become one chunk of their own, durable with the batch;
   * reads merge it with the in-order chunks it overlaps.
   */
  private writeOutOfOrder(s: MemSeries, samples: Array<[number, number]>, ops: BatchOp[]): void {
    samples.sort((a, b) => a[0] - b[0]);
    let app = new XorAppender();
    const flush = () => {
      const chunk = app.bytes();
      const value = new Uint8Array(8 + chunk.length);
      writeTime(value, 0, app.minTime);
      value.set(chunk, 8);
      ops.push({ type: 'put', key: oooChunkKey(s.ref, app.maxTime, this.oooSeq++), value });
      app = new XorAppender();
    };
    let prev = NaN;
    for (const [t, v] of samples) {
      if (t === prev) continue;
      if (app.count >= MAX_SAMPLES_PER_CHUNK) flush();
      app.append(t, v);
      prev = t;
    }
    if (app.count > 0) flush();
    s.hasOOO = true;
    if (samples[0][0] < s.minT) {
      s.minT = samples[0][0];
      ops.push({ type: 'put', key: seriesKey(s.ref), value: this.seriesRecord(s) });
    }
  }

  private seal(s: MemSeries, ops: BatchOp[]): void {
    const app = s.app;
    if (app === null || app.count === 0) return;
    const chunk = app.bytes();
    const value = new Uint8Array(8 + chunk.length);
    writeTime(value, 0, app.minTime);
    value.set(chunk, 8);
    ops.push({ type: 'put', key: chunkKey(s.ref, app.maxTime), value });
    s.chunkMaxTs.push(app.maxTime);
    const mt = new Uint8Array(8);
    writeTime(mt, 0, app.maxTime);
    ops.push({ type: 'put', key: maxTimeKey(s.ref), value: mt });
    s.app = null;
    s.dirty = false;
  }

  /**
   * Writes the open chunk of every series whose head changed since the last checkpoint. After it
   * resolves, every sample appended before the call is in LevelDB: the caller may then commit the
   * log offset it had reached.
   */
  checkpoint(): Promise<number> {
    return this.serialise(() => this.checkpointNow());
  }

  private async checkpointNow(force = false): Promise<number> {
    let changed = force;
    for (const s of this.byRef.values()) {
      if (changed) break;
      changed = s.dirty;
    }
    if (!changed) return 0;
    // Every open head, in pieces of a few megabytes: a handful of large values cost LevelDB far
    // less than one key per series (a tenth of the CPU for 100k series).
    const gen = ++this.headGen;
    const keys: Uint8Array[] = [];
    const ops: BatchOp[] = [];
    let piece = new Uint8Array(HEAD_PIECE_BYTES);
    // One view per piece: a DataView per head was 100k short-lived objects a checkpoint.
    let view = new DataView(piece.buffer);
    let o = 0;
    const flush = () => {
      const key = headsKey(gen, keys.length);
      keys.push(key);
      ops.push({ type: 'put', key, value: piece.subarray(0, o) });
      o = 0;
    };
    let heads = 0;
    // A million heads are a few hundred milliseconds to copy; appends wait (serialised), reads
    // and probes need not.
    const slice = new TimeSlice();
    let seen = 0;
    for (const s of this.byRef.values()) {
      if ((++seen & 4095) === 0 && slice.due()) await slice.pause();
      if (s.app === null || s.app.count === 0) continue;
      const chunk = s.app.view();
      const need = 16 + chunk.length;
      if (o + need > piece.length) {
        if (o > 0) flush();
        piece = new Uint8Array(Math.max(HEAD_PIECE_BYTES, need));
        view = new DataView(piece.buffer);
      }
      view.setUint32(o, s.ref);
      writeTime(piece, o + 4, s.chunkEnd);
      view.setUint32(o + 12, chunk.length);
      piece.set(chunk, o + 16);
      o += need;
      heads++;
    }
    if (o > 0) flush();
    const stale = this.headKeys;
    for (const key of stale) ops.push({ type: 'del', key });
    // Until the batch is in, both generations' keys may be there (a failed batch is retried).
    this.headKeys = [...stale, ...keys];
    // Clean only once written: a failed checkpoint must leave them for the next one, or the
    // offsets committed after it would skip samples that are nowhere on disk.
    await this.write(ops);
    this.headKeys = keys;
    for (const s of this.byRef.values()) s.dirty = false;
    return heads;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.checkpoint();
    this.closed = true;
    this.seriesLimit?.leave(this);
    await this.writeChain;
    await this.db.close();
  }

  /**
   * Deletes every chunk whose samples are all older than `cutoff`, then the series left with no
   * samples, then compacts LevelDB so the space is returned.
   */
  deleteBefore(cutoff: number): Promise<RetentionResult> {
    return this.serialise(async () => {
      const res: RetentionResult = { deletedChunks: 0, deletedSeries: 0 };
      const gone = new Set<number>();
      for (const s of this.byRef.values()) {
        if (s.minT >= cutoff) continue;
        for (const kind of [KIND_CHUNK, KIND_OOO]) {
          const range = chunksBefore(kind, s.ref, cutoff);
          for await (const key of this.db.keys(range)) if (key.length > 0) res.deletedChunks++;
          await this.guarded(() => this.db.clear(range));
        }
        s.chunkMaxTs = s.chunkMaxTs.filter((t) => t >= cutoff);
        if (s.lastT < cutoff) {
          gone.add(s.ref);
          continue;
        }
        s.minT = cutoff;
      }
      await this.removeSeries(gone);
      res.deletedSeries = gone.size;
      if (res.deletedChunks > 0) await this.db.compactRange(Uint8Array.of(0), Uint8Array.of(0xff));
      return res;
    });
  }

  /** Removes series whose chunks are already gone: their records, postings and head. */
  private async removeSeries(gone: ReadonlySet<number>, ops: BatchOp[] = []): Promise<void> {
    if (gone.size === 0) return;
    for (const ref of gone) {
      ops.push({ type: 'del', key: seriesKey(ref) });
      ops.push({ type: 'del', key: maxTimeKey(ref) });
    }
    await this.guarded(() => this.db.batch(ops));
    this.postings.remove(gone, (ref) => (this.byRef.get(ref) as MemSeries).labels);
    for (const ref of gone) this.forget(this.byRef.get(ref) as MemSeries);
  }

  /**
   * The admin API's delete_series: removes the samples of matching series between `mint` and
   * `maxt` (inclusive). Prometheus writes tombstones and rewrites blocks later (clean_tombstones);
   * here each affected series is rewritten at once, its remaining samples sealed into fresh
   * chunks, and a series left with none is removed.
   */
  deleteRange(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<DeleteResult> {
    return this.serialise(async () => {
      const res: DeleteResult = { deletedSamples: 0, deletedSeries: 0 };
      const gone = new Set<number>();
      const goneChunks: BatchOp[] = [];
      for (const s of this.selectSeries(matchers, mint, maxt)) {
        const [all] = await this.readMany([s], -Infinity, Infinity);
        const keep: number[] = [];
        for (let i = 0; i < all.timestamps.length; i++) {
          const t = all.timestamps[i];
          if (t < mint || t > maxt) keep.push(i);
        }
        const removed = all.timestamps.length - keep.length;
        if (removed === 0) continue;
        res.deletedSamples += removed;
        // One batch per series: the old chunks go with the new ones' arrival, never before.
        const ops: BatchOp[] = [];
        for (const kind of [KIND_CHUNK, KIND_OOO])
          for await (const key of this.scanKeys(chunkRange(kind, s.ref, -Infinity)))
            ops.push({ type: 'del', key });
        s.app = null;
        s.dirty = false;
        s.hasOOO = false;
        s.chunkMaxTs = [];
        if (keep.length === 0) {
          gone.add(s.ref);
          goneChunks.push(...ops);
          continue;
        }
        for (let from = 0; from < keep.length; from += MAX_SAMPLES_PER_CHUNK) {
          const app = s.newAppender();
          for (const i of keep.slice(from, from + MAX_SAMPLES_PER_CHUNK))
            app.append(all.timestamps[i], all.values[i]);
          s.app = app;
          this.seal(s, ops);
        }
        // The last appender's final append noted the newest kept sample as the series' newest.
        s.minT = all.timestamps[keep[0]];
        ops.push({ type: 'put', key: seriesKey(s.ref), value: this.seriesRecord(s) });
        await this.write(ops);
      }
      await this.removeSeries(gone, goneChunks);
      res.deletedSeries = gone.size;
      // The head checkpoint still holds the deleted heads: a new generation without them.
      if (res.deletedSamples > 0) await this.checkpointNow(true);
      return res;
    });
  }

  /**
   * Copies the shard into a new LevelDB at `dest`, between writes, so the copy is one point in
   * time. With the head its open chunks are checkpointed first and copied; without, only sealed
   * chunks are (Prometheus' skip_head).
   */
  snapshot(dest: string, withHead: boolean): Promise<number> {
    return this.serialise(async () => {
      if (withHead) await this.checkpointNow();
      const copy: Db = new ClassicLevel<Uint8Array, Uint8Array>(dest, {
        keyEncoding: 'view',
        valueEncoding: 'view',
        errorIfExists: true,
      });
      await copy.open();
      let n = 0;
      try {
        const it = this.db.iterator();
        try {
          for (let batch = await it.nextv(1000); batch.length > 0; batch = await it.nextv(1000)) {
            const ops: BatchOp[] = [];
            for (const [key, value] of batch) {
              if (!withHead && (key[0] === KIND_HEAD || key[0] === KIND_HEADS)) continue;
              ops.push({ type: 'put', key, value });
            }
            await copy.batch(ops);
            n += ops.length;
          }
        } finally {
          await it.close();
        }
      } finally {
        await copy.close();
      }
      return n;
    });
  }

  /**
   * The newest sample time the head's bounds measure from: the shard's newest, but never past
   * the tolerance entry points allow, so a far-future sample stored before they refused such
   * samples (or backfilled) cannot put every real sample out of bounds.
   */
  private headMaxT(): number {
    return Math.min(this.maxT, Date.now() + MAX_AHEAD_MS);
  }

  /**
   * Applies `--storage.tsdb.retention.time`: measured back from the newest sample, as upstream,
   * but never from later than now, so no one series' future timestamp decides what is deleted.
   */
  async applyRetentionTime(retentionMs: number, now = Date.now()): Promise<RetentionResult> {
    if (this.maxT === -Infinity) return { deletedChunks: 0, deletedSeries: 0 };
    return this.deleteBefore(Math.min(this.maxT, now) - retentionMs);
  }

  /**
   * Applies a size limit: finds the oldest chunks whose bytes cover the excess and deletes by
   * their time, so whole time ranges go, oldest first.
   */
  async applyRetentionSize(maxBytes: number): Promise<RetentionResult> {
    const size = directoryBytes(this.path);
    if (size <= maxBytes) return { deletedChunks: 0, deletedSeries: 0 };
    const chunks: Array<[number, number]> = [];
    let stored = 0;
    for (const kind of [KIND_CHUNK, KIND_OOO]) {
      for await (const [key, value] of this.db.iterator(kindRange(kind))) {
        chunks.push([readTime(key, 5), key.length + value.length]);
        stored += key.length + value.length;
      }
    }
    if (chunks.length === 0) return { deletedChunks: 0, deletedSeries: 0 };
    chunks.sort((a, b) => a[0] - b[0]);
    // Files hold more than the chunk bytes (index, series, LevelDB overhead): scale the excess.
    const excess = ((size - maxBytes) * stored) / size;
    let freed = 0;
    let cutoff = chunks[0][0] + 1;
    for (const [t, bytes] of chunks) {
      freed += bytes;
      cutoff = t + 1;
      if (freed >= excess) break;
    }
    return this.deleteBefore(cutoff);
  }

  /** Series in the shard, without walking them (the head-series gauge asks on every scrape). */
  seriesCount(): number {
    return this.byRef.size;
  }

  stats(): TSDBStats {
    let minTime = Infinity;
    let maxTime = -Infinity;
    let headChunks = 0;
    for (const s of this.byRef.values()) {
      if (s.minT < minTime) minTime = s.minT;
      if (s.lastT > maxTime) maxTime = s.lastT;
      if (s.app !== null) headChunks++;
    }
    return { series: this.byRef.size, headChunks, minTime, maxTime };
  }

  /** Cheap, from memory: what /api/v1/status/tsdb reports. */
  status(): StorageStatus {
    const st = this.stats();
    let chunks = 0;
    for (const s of this.byRef.values()) chunks += s.chunkMaxTs.length + (s.app !== null ? 1 : 0);
    return {
      numSeries: st.series,
      chunkCount: chunks,
      minTime: st.minTime,
      maxTime: st.maxTime,
      pairs: [...this.postings.pairs()],
    };
  }

  /** What `pharos tsdb analyze` prints: one pass over the stored chunks plus the index. */
  async analyze(): Promise<StorageAnalysis> {
    const st = this.stats();
    let chunks = 0;
    let samples = 0;
    let chunkBytes = 0;
    for (const kind of [KIND_CHUNK, KIND_OOO]) {
      for await (const value of this.db.values(kindRange(kind))) {
        chunks++;
        samples += chunkSampleCount(value.subarray(8));
        chunkBytes += value.length;
      }
    }
    for (const s of this.byRef.values()) {
      if (s.app === null) continue;
      samples += s.app.count;
      chunkBytes += s.app.bytes().length;
    }
    return {
      series: st.series,
      chunks,
      headChunks: st.headChunks,
      samples,
      chunkBytes,
      diskBytes: directoryBytes(this.path),
      minTime: st.minTime,
      maxTime: st.maxTime,
      pairs: [...this.postings.pairs()],
    };
  }

  private selectSeries(matchers: readonly LabelMatcher[], mint: number, maxt: number): MemSeries[] {
    const out: MemSeries[] = [];
    for (const ref of this.postings.select(matchers)) {
      const s = this.byRef.get(ref);
      if (s !== undefined && s.minT <= maxt && s.lastT >= mint) out.push(s);
    }
    return out;
  }

  async select(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<SeriesData[]> {
    const out: SeriesData[] = [];
    const slice = new TimeSlice(signal);
    const found = this.selectSeries(matchers, mint, maxt);
    for (let i = 0; i < found.length; i += READ_GROUP) {
      for (const data of await this.readMany(found.slice(i, i + READ_GROUP), mint, maxt, slice)) {
        if (data.timestamps.length > 0) out.push(data);
      }
    }
    return out;
  }

  /** The chunks of matching series, for streaming to a remote querier. */
  async selectChunks(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Array<{ labels: Labels; chunks: Uint8Array[] }>> {
    const out: Array<{ labels: Labels; chunks: Uint8Array[] }> = [];
    const slice = new TimeSlice(signal);
    for (const data of await this.select(matchers, mint, maxt, signal)) {
      if (slice.due()) await slice.pause();
      // Re-encoding clips chunks to the range and folds in out-of-order data and the head.
      const chunks: Uint8Array[] = [];
      let app = new XorAppender();
      for (let i = 0; i < data.timestamps.length; i++) {
        if (app.count >= MAX_SAMPLES_PER_CHUNK) {
          chunks.push(app.bytes());
          app = new XorAppender();
        }
        app.append(data.timestamps[i], data.values[i]);
      }
      chunks.push(app.bytes());
      out.push({ labels: data.labels, chunks });
    }
    return out;
  }

  /**
   * Reads a group of series: the stored chunks they need in one multi-get, their heads copied
   * before the first await (an append may seal a head meanwhile; the copy and the chunk list
   * taken together stay consistent), decoded straight into typed arrays.
   */
  private async readMany(
    group: MemSeries[],
    mint: number,
    maxt: number,
    slice?: TimeSlice,
  ): Promise<SeriesData[]> {
    const heads = group.map((s) => (s.app !== null && s.app.maxTime >= mint ? s.app.bytes() : null));
    const keys: Uint8Array[] = [];
    const firstKey: number[] = [];
    for (const s of group) {
      firstKey.push(keys.length);
      const ts = s.chunkMaxTs;
      // Chunk i holds (ts[i-1], ts[i]]: wanted when ts[i] >= mint and ts[i-1] < maxt.
      for (let i = lowerBound(ts, mint); i < ts.length && (i === 0 || ts[i - 1] < maxt); i++) {
        keys.push(chunkKey(s.ref, ts[i]));
      }
    }
    firstKey.push(keys.length);
    const values = keys.length > 0 ? await this.db.getMany(keys) : [];
    const out: SeriesData[] = [];
    for (let g = 0; g < group.length; g++) {
      // Everything this group needs was taken above, so pausing here cannot see a torn series.
      if (slice?.due()) await slice.pause();
      const s = group[g];
      const chunks: Uint8Array[] = [];
      for (let k = firstKey[g]; k < firstKey[g + 1]; k++) {
        const v = values[k];
        // Deleted by retention since the list was read: those samples are gone either way.
        if (v !== undefined && readTime(v, 0) <= maxt) chunks.push(v.subarray(8));
      }
      const head = heads[g];
      if (head !== null) chunks.push(head);
      let data = decodeChunks(s.labels, chunks, mint, maxt);
      if (s.hasOOO) data = await this.mergeOutOfOrder(s, data, mint, maxt);
      out.push(data);
    }
    return out;
  }

  private async mergeOutOfOrder(
    s: MemSeries,
    data: SeriesData,
    mint: number,
    maxt: number,
  ): Promise<SeriesData> {
    const chunks: Uint8Array[] = [];
    for await (const [, value] of this.scan(chunkRange(KIND_OOO, s.ref, mint))) {
      if (readTime(value, 0) <= maxt) chunks.push(value.subarray(8));
    }
    if (chunks.length === 0) return data;
    const ooo = decodeChunks(s.labels, chunks, mint, maxt, false);
    const ts = [...data.timestamps, ...ooo.timestamps];
    const vs = new Float64Array(data.values.length + ooo.values.length);
    vs.set(data.values);
    vs.set(ooo.values, data.values.length);
    return mergeSorted(s.labels, ts, vs);
  }

  async series(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Labels[]> {
    signal?.throwIfAborted();
    return this.selectSeries(matchers, mint, maxt).map((s) => s.labels);
  }

  async labelNames(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (matchers.length === 0 && mint === -Infinity && maxt === Infinity)
      return this.postings.labelNames().sort();
    const names = new Set<string>();
    const slice = new TimeSlice(signal);
    for (const s of this.selectSeries(matchers, mint, maxt)) {
      if (slice.due()) await slice.pause();
      for (const l of s.labels) names.add(l.name);
    }
    return [...names].sort();
  }

  async labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (matchers.length === 0 && mint === -Infinity && maxt === Infinity)
      return this.postings.labelValues(name).sort();
    const values = new Set<string>();
    const slice = new TimeSlice(signal);
    for (const s of this.selectSeries(matchers, mint, maxt)) {
      if (slice.due()) await slice.pause();
      for (const l of s.labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }
}

/**
 * In-order samples come first in `ts`, out-of-order ones after; a stable sort by time with the
 * first of equal timestamps kept gives in-order data precedence, as a compaction would.
 */
function mergeSorted(labels: Labels, ts: number[], vs: Float64Array): SeriesData {
  const order = Array.from(ts.keys()).sort((a, b) => ts[a] - ts[b] || a - b);
  const outT = new Float64Array(order.length);
  const outV = new Float64Array(order.length);
  let n = 0;
  for (const i of order) {
    if (n > 0 && outT[n - 1] === ts[i]) continue;
    outT[n] = ts[i];
    outV[n] = vs[i];
    n++;
  }
  return { labels, timestamps: outT.slice(0, n), values: outV.slice(0, n) };
}

/** Series read per multi-get: bounds the memory one read holds at a time. */
const READ_GROUP = 512;

/** First index whose value is >= t. */
function lowerBound(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Decodes chunks into one series' arrays, keeping samples in [mint, maxt]. In-order chunks
 * (`ordered`) may overlap only where a head was copied after its samples were sealed, so a
 * sample not after the previous one is skipped. Values stay in a Float64Array so NaN payloads
 * (staleness markers) keep their bits.
 */
function decodeChunks(
  labels: Labels,
  chunks: Uint8Array[],
  mint: number,
  maxt: number,
  ordered = true,
): SeriesData {
  let cap = 0;
  for (const c of chunks) cap += chunkSampleCount(c);
  const ts = new Float64Array(cap);
  const vs = new Float64Array(cap);
  let n = 0;
  for (const c of chunks) {
    const after = ordered && n > 0 ? ts[n - 1] : -Infinity;
    n = decodeXorInto(c, mint, maxt, after, ts, vs, n);
  }
  return { labels, timestamps: ts.slice(0, n), values: vs.slice(0, n) };
}
