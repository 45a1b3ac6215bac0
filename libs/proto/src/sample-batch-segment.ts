import { labelsEqual, setLabelsSlot, type Labels, type SampleBatch, type Slotted } from '@pharos/model';
import { Series as SeriesMsg } from './gen/pharos/v1/ingester.generated.js';
import { decodeSampleBatch, encodeSampleBatch, encodeSeries } from './sample-batch.js';

/**
 * The write-ahead log's record format for sample batches. A scrape sends the same series every
 * time; writing their labels in every record made the log 160 bytes per sample, most of a
 * scrape's write cost. Here, as in Prometheus' WAL, a series' labels are written once per
 * segment, in the first record that uses it, and later records name it by its number in the
 * segment. A segment therefore reads only from its start.
 *
 * Record layout (varints unsigned LEB128, columns little-endian):
 *   0x00 | defined | defined × (length, Series message) | series | series × segment number
 *   | samples | refs (uint32 × samples) | timestamp mode | timestamps | values (float64 × samples)
 * Timestamp mode 1 is one float64 for all samples (a scrape's usual batch), 0 one per sample.
 * The leading zero byte cannot begin a SampleBatch message (field tags start at 1 << 3), so
 * records of the older format, whole SampleBatch messages, are still read.
 */
const FORMAT = 0x00;
const TS_EACH = 0;
const TS_SAME = 1;

/**
 * The segment writer that last numbered a label set (its token, which pins nothing: a writer
 * of a closed segment must not stay reachable from label sets that outlive it), and the number.
 */
const WRITER_SLOT = Symbol('pharos.wal.writer');
const NUMBER_SLOT = Symbol('pharos.wal.number');

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Codec state for one segment: the series it has defined so far. */
export class SampleBatchSegmentCodec {
  /**
   * Writer side: numbers of the series this segment defined, by hash, for label sets the slots
   * do not know (remote_write decodes new objects for every request).
   */
  private readonly byHash = new Map<string, number | number[]>();
  private readonly series: Labels[] = [];
  private readonly hashes: string[] = [];
  /** Reused across records: the view `encodeFramed` returns is valid until its next call. */
  private scratch = new Uint8Array(0);
  private readonly token = {};

  /** The record, after `header` free bytes, in a buffer valid until the next call. */
  encodeFramed(batch: SampleBatch, header: number): Uint8Array {
    const n = batch.series.length;
    const samples = batch.refs.length;
    const numbers = new Uint32Array(n);
    const defined: Uint8Array[] = [];
    let size = header + 1 + 5 + 5 + 5 + 1;
    for (let i = 0; i < n; i++) {
      let id = this.find(batch.series[i], batch.hashes[i]);
      if (id < 0) {
        id = this.define(batch.series[i], batch.hashes[i]);
        this.remember(batch.series[i], id);
        // Not the cached encoding: a segment needs it once, and a cache would hold 100k of them.
        const b = encodeSeries(batch.series[i], batch.hashes[i]);
        defined.push(b);
        size += 5 + b.length;
      }
      numbers[i] = id;
      size += 5;
    }
    const ts = batch.timestamps;
    let same = samples > 0;
    for (let i = 1; i < samples && same; i++) same = ts[i] === ts[0];
    size += samples * 4 + (same ? 8 : samples * 8) + samples * 8;

    if (this.scratch.length < size) this.scratch = new Uint8Array(Math.max(size, this.scratch.length * 2));
    const out = this.scratch;
    let o = header;
    const varint = (v: number) => {
      while (v >= 0x80) {
        out[o++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      out[o++] = v;
    };
    out[o++] = FORMAT;
    varint(defined.length);
    for (const b of defined) {
      varint(b.length);
      out.set(b, o);
      o += b.length;
    }
    varint(n);
    for (let i = 0; i < n; i++) varint(numbers[i]);
    varint(samples);
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    o = putUint32s(out, dv, o, batch.refs);
    out[o++] = same ? TS_SAME : TS_EACH;
    if (same) {
      dv.setFloat64(o, ts[0], true);
      o += 8;
    } else o = putFloat64s(out, dv, o, ts);
    o = putFloat64s(out, dv, o, batch.values);
    return out.subarray(0, o);
  }

  /** Decodes a record of this segment; records must come in the order they were written. */
  decode(bytes: Uint8Array): SampleBatch {
    if (bytes.length === 0 || bytes[0] !== FORMAT) return decodeSampleBatch(bytes);
    const r = new Reader(bytes, 1);
    this.learn(r);
    const n = r.varint();
    const series = new Array<Labels>(n);
    const hashes = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const id = r.varint();
      if (id >= this.series.length)
        throw new Error(
          `sample record: series ${id} is not defined in this segment (${this.series.length} are)`,
        );
      series[i] = this.series[id];
      hashes[i] = this.hashes[id];
    }
    const samples = r.varint();
    const refs = new Uint32Array(samples);
    const raw = r.take(samples * 4);
    const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < samples; i++) {
      const ref = rv.getUint32(i * 4, true);
      if (ref >= n) throw new Error(`sample record: sample ${i} refers to series ${ref} of ${n}`);
      refs[i] = ref;
    }
    const mode = r.take(1)[0];
    let timestamps: Float64Array;
    if (mode === TS_SAME) timestamps = new Float64Array(samples).fill(readFloat64s(r.take(8), 1)[0]);
    else if (mode === TS_EACH) timestamps = readFloat64s(r.take(samples * 8), samples);
    else throw new Error(`sample record: unknown timestamp mode ${mode}`);
    const values = readFloat64s(r.take(samples * 8), samples);
    if (!r.done()) throw new Error(`sample record: ${bytes.length - r.pos} bytes after the values`);
    return { series, hashes, refs, timestamps, values };
  }

  /** A record before the replay start: only its series definitions are needed, for later records. */
  skip(bytes: Uint8Array): void {
    if (bytes.length === 0 || bytes[0] !== FORMAT) return;
    this.learn(new Reader(bytes, 1));
  }

  private learn(r: Reader): void {
    const defined = r.varint();
    for (let i = 0; i < defined; i++) {
      const msg = SeriesMsg.decode(r.take(r.varint()));
      this.define(
        msg.labels.map((l) => ({ name: l.name, value: l.value })),
        msg.hash,
      );
    }
  }

  private find(labels: Labels, hash: string): number {
    if ((labels as Slotted<object>)[WRITER_SLOT] === this.token)
      return (labels as Slotted<number>)[NUMBER_SLOT] as number;
    const cur = this.byHash.get(hash);
    if (cur === undefined) return -1;
    for (const c of typeof cur === 'number' ? [cur] : cur) {
      if (labelsEqual(this.series[c], labels)) {
        this.remember(labels, c);
        return c;
      }
    }
    return -1;
  }

  private remember(labels: Labels, id: number): void {
    setLabelsSlot(labels, WRITER_SLOT, this.token);
    setLabelsSlot(labels, NUMBER_SLOT, id);
  }

  private define(labels: Labels, hash: string): number {
    const id = this.series.length;
    this.series.push(labels);
    this.hashes.push(hash);
    const cur = this.byHash.get(hash);
    if (cur === undefined) this.byHash.set(hash, id);
    else if (typeof cur === 'number') this.byHash.set(hash, [cur, id]);
    else cur.push(id);
    return id;
  }
}

/** The log codec of sample batches: one `SampleBatchSegmentCodec` per segment. */
export const sampleBatchLogCodec = {
  encode: encodeSampleBatch,
  decode: decodeSampleBatch,
  segment: () => new SampleBatchSegmentCodec(),
};

function putUint32s(out: Uint8Array, dv: DataView, o: number, a: Uint32Array): number {
  if (littleEndian) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
  else for (let i = 0; i < a.length; i++) dv.setUint32(o + i * 4, a[i], true);
  return o + a.byteLength;
}

function putFloat64s(out: Uint8Array, dv: DataView, o: number, a: Float64Array): number {
  if (littleEndian) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
  else for (let i = 0; i < a.length; i++) dv.setFloat64(o + i * 8, a[i], true);
  return o + a.byteLength;
}

/** A copy, so the array is aligned whatever the record's offset in the file. */
function readFloat64s(b: Uint8Array, n: number): Float64Array {
  if (littleEndian) {
    const copy = new Uint8Array(n * 8);
    copy.set(b);
    return new Float64Array(copy.buffer);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Float64Array.from({ length: n }, (_, i) => dv.getFloat64(i * 8, true));
}

class Reader {
  constructor(
    private readonly b: Uint8Array,
    public pos: number,
  ) {}

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 5; k++) {
      if (this.pos >= this.b.length) throw new Error('sample record: truncated');
      const c = this.b[this.pos++];
      v += (c & 0x7f) * mul;
      if (c < 0x80) return v;
      mul *= 128;
    }
    throw new Error('sample record: varint too long');
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new Error('sample record: truncated');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  done(): boolean {
    return this.pos === this.b.length;
  }
}
