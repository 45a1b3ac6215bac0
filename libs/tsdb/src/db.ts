import { ClassicLevel } from 'classic-level';
import {
  labelsEqual,
  validateSeriesLabels,
  type Label,
  type LabelMatcher,
  type Labels,
  type SampleBatch,
} from '@pharos/model';
import { XorAppender, XorIterator, MAX_SAMPLES_PER_CHUNK } from './chunkenc/xor.js';
import {
  chunkKey,
  chunkKeyEnd,
  kindRange,
  KIND_MAXTIME,
  KIND_SERIES,
  maxTimeKey,
  metaKey,
  readTime,
  refOf,
  seriesKey,
  writeTime,
} from './keys.js';
import { MemPostings } from './postings.js';
import type { Queryable, SeriesData } from './queryable.js';

/** Chunks are cut at 2h boundaries as well as at 120 samples, as Prometheus' head does. */
export const CHUNK_RANGE_MS = 2 * 3600_000;

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array };

class MemSeries {
  app: XorAppender | null = null;
  chunkEnd = 0;
  /** Newest sample time, stored or in the head; -Infinity for a new series. */
  lastT = -Infinity;
  lastValueBits = '';

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    readonly hash: string,
    readonly minT: number,
  ) {}
}

export interface AppendResult {
  appended: number;
  outOfOrder: number;
  duplicate: number;
  invalid: number;
  /** The first rejection's reason, for the caller's log and error response. */
  firstError: string | undefined;
}

export interface TSDBStats {
  series: number;
  headChunks: number;
  minTime: number;
  maxTime: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bitsView = new DataView(new ArrayBuffer(8));

function valueBits(v: number): string {
  bitsView.setFloat64(0, v);
  return `${bitsView.getUint32(0)}:${bitsView.getUint32(4)}`;
}

/**
 * One shard of time series storage: head chunks in memory, sealed chunks and series in LevelDB.
 * Appends are serialised; reads may run alongside them.
 */
export class TSDB implements Queryable {
  private readonly byHash = new Map<string, MemSeries | MemSeries[]>();
  private readonly byRef = new Map<number, MemSeries>();
  private readonly postings = new MemPostings();
  private nextRef = 1;
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly db: Db,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<TSDB> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    await db.open();
    const tsdb = new TSDB(db, path);
    await tsdb.load();
    return tsdb;
  }

  private async load(): Promise<void> {
    for await (const [key, value] of this.db.iterator(kindRange(KIND_SERIES))) {
      const rec = JSON.parse(dec.decode(value)) as { l: string[]; t: number; h: string };
      const labels: Label[] = [];
      for (let i = 0; i < rec.l.length; i += 2) labels.push({ name: rec.l[i], value: rec.l[i + 1] });
      const s = new MemSeries(refOf(key), labels, rec.h, rec.t);
      this.index(s);
      this.nextRef = Math.max(this.nextRef, s.ref + 1);
    }
    for await (const [key, value] of this.db.iterator(kindRange(KIND_MAXTIME))) {
      const s = this.byRef.get(refOf(key));
      if (s) s.lastT = readTime(value, 0);
    }
  }

  private index(s: MemSeries): void {
    this.byRef.set(s.ref, s);
    const cur = this.byHash.get(s.hash);
    if (cur === undefined) this.byHash.set(s.hash, s);
    else if (Array.isArray(cur)) cur.push(s);
    else this.byHash.set(s.hash, [cur, s]);
    this.postings.add(s.ref, s.labels);
  }

  private lookup(labels: Labels, hash: string): MemSeries | undefined {
    const cur = this.byHash.get(hash);
    if (cur === undefined) return undefined;
    if (!Array.isArray(cur)) return labelsEqual(cur.labels, labels) ? cur : undefined;
    return cur.find((s) => labelsEqual(s.labels, labels));
  }

  /**
   * Appends a batch; resolves once every new series and sealed chunk it produced is written to
   * LevelDB. Samples that break the write rules are counted, not stored.
   */
  append(batch: SampleBatch): Promise<AppendResult> {
    const run = this.writeChain.then(() => this.appendNow(batch));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async appendNow(batch: SampleBatch): Promise<AppendResult> {
    if (this.closed) throw new Error('TSDB is closed');
    const res: AppendResult = { appended: 0, outOfOrder: 0, duplicate: 0, invalid: 0, firstError: undefined };
    const ops: BatchOp[] = [];
    const resolved: Array<MemSeries | null | undefined> = new Array(batch.series.length);
    const newRefStart = this.nextRef;
    for (let i = 0; i < batch.refs.length; i++) {
      const idx = batch.refs[i];
      let s = resolved[idx];
      const t = batch.timestamps[i];
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
          s = new MemSeries(this.nextRef++, labels, batch.hashes[idx], t);
          this.index(s);
          const flat: string[] = [];
          for (const l of labels) flat.push(l.name, l.value);
          ops.push({
            type: 'put',
            key: seriesKey(s.ref),
            value: enc.encode(JSON.stringify({ l: flat, t, h: s.hash })),
          });
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
          if (s.app !== null && valueBits(v) === s.lastValueBits) continue;
          res.duplicate++;
          res.firstError ??= 'duplicate sample for timestamp';
        } else {
          res.outOfOrder++;
          res.firstError ??= 'out of order sample';
        }
        continue;
      }
      if (s.app === null || s.app.count >= MAX_SAMPLES_PER_CHUNK || t >= s.chunkEnd) {
        this.seal(s, ops);
        s.app = new XorAppender();
        s.chunkEnd = (Math.floor(t / CHUNK_RANGE_MS) + 1) * CHUNK_RANGE_MS;
      }
      s.app.append(t, v);
      s.lastT = t;
      s.lastValueBits = valueBits(v);
      res.appended++;
    }
    if (this.nextRef !== newRefStart) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, this.nextRef);
      ops.push({ type: 'put', key: metaKey('nextRef'), value: b });
    }
    if (ops.length > 0) await this.db.batch(ops);
    return res;
  }

  private seal(s: MemSeries, ops: BatchOp[]): void {
    const app = s.app;
    if (app === null || app.count === 0) return;
    const chunk = app.bytes();
    const value = new Uint8Array(8 + chunk.length);
    writeTime(value, 0, app.minTime);
    value.set(chunk, 8);
    ops.push({ type: 'put', key: chunkKey(s.ref, app.maxTime), value });
    const mt = new Uint8Array(8);
    writeTime(mt, 0, app.maxTime);
    ops.push({ type: 'put', key: maxTimeKey(s.ref), value: mt });
    s.app = null;
  }

  /** Writes every open head chunk to LevelDB, so a restart finds all samples. */
  flush(): Promise<void> {
    const run = this.writeChain.then(async () => {
      const ops: BatchOp[] = [];
      for (const s of this.byRef.values()) this.seal(s, ops);
      if (ops.length > 0) await this.db.batch(ops);
    });
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.db.close();
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

  private selectSeries(matchers: readonly LabelMatcher[], mint: number, maxt: number): MemSeries[] {
    const out: MemSeries[] = [];
    for (const ref of this.postings.select(matchers)) {
      const s = this.byRef.get(ref);
      if (s !== undefined && s.minT <= maxt && s.lastT >= mint) out.push(s);
    }
    return out;
  }

  async select(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<SeriesData[]> {
    const out: SeriesData[] = [];
    for (const s of this.selectSeries(matchers, mint, maxt)) {
      const ts: number[] = [];
      const vs = new SampleSink();
      // Head chunk bytes are copied first: an append may seal it while we read LevelDB.
      const head = s.app !== null && s.app.maxTime >= mint ? s.app.bytes() : null;
      const start = chunkKey(s.ref, mint);
      for await (const value of this.db.values({ gte: start, lt: chunkKeyEnd(s.ref) })) {
        if (readTime(value, 0) > maxt) break;
        decodeInto(value.subarray(8), mint, maxt, ts, vs);
      }
      if (head !== null) decodeInto(head, mint, maxt, ts, vs, ts.length > 0 ? ts[ts.length - 1] : -Infinity);
      if (ts.length > 0)
        out.push({ labels: s.labels, timestamps: Float64Array.from(ts), values: vs.finish() });
    }
    return out;
  }

  async series(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<Labels[]> {
    return this.selectSeries(matchers, mint, maxt).map((s) => s.labels);
  }

  async labelNames(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<string[]> {
    if (matchers.length === 0 && mint === -Infinity && maxt === Infinity)
      return this.postings.labelNames().sort();
    const names = new Set<string>();
    for (const s of this.selectSeries(matchers, mint, maxt)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
  ): Promise<string[]> {
    if (matchers.length === 0 && mint === -Infinity && maxt === Infinity)
      return this.postings.labelValues(name).sort();
    const values = new Set<string>();
    for (const s of this.selectSeries(matchers, mint, maxt)) {
      for (const l of s.labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }
}

/** Collects values in a Float64Array so NaN payloads (staleness markers) keep their bits. */
class SampleSink {
  private buf = new Float64Array(128);
  private n = 0;

  push(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }

  finish(): Float64Array {
    return this.buf.slice(0, this.n);
  }
}

function decodeInto(
  chunk: Uint8Array,
  mint: number,
  maxt: number,
  ts: number[],
  vs: SampleSink,
  after = -Infinity,
): void {
  const it = new XorIterator(chunk);
  while (it.next()) {
    if (it.t < mint || it.t <= after) continue;
    if (it.t > maxt) break;
    ts.push(it.t);
    vs.push(it.v);
  }
}
