import { setLabelsSlot, type Labels, type SampleBatch, type Slotted } from '@pharos/model';
import {
  SampleBatch as SampleBatchMsg,
  type Label,
  type Series,
} from './gen/pharos/v1/ingester.generated.js';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function columnBytes(a: Float64Array | Uint32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  if (a instanceof Float64Array) a.forEach((v, i) => dv.setFloat64(i * 8, v, true));
  else a.forEach((v, i) => dv.setUint32(i * 4, v, true));
  return out;
}

function float64Column(b: Uint8Array, n: number): Float64Array {
  if (b.length !== n * 8) throw new Error(`sample batch: column of ${b.length} bytes for ${n} samples`);
  if (littleEndian) {
    // A copy, so the typed array is aligned whatever the offset inside the message. Not
    // b.slice(): on a Buffer (what a file read gives) slice is a view of the whole pool.
    const copy = new Uint8Array(b.length);
    copy.set(b);
    return new Float64Array(copy.buffer);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Float64Array.from({ length: n }, (_, i) => dv.getFloat64(i * 8, true));
}

export function labelsToProto(labels: Labels): Label[] {
  return labels.map((l) => ({ name: l.name, value: l.value }));
}

export function sampleBatchToProto(batch: SampleBatch): SampleBatchMsg {
  const series: Series[] = batch.series.map((labels, i) => ({
    labels: labelsToProto(labels),
    hash: batch.hashes[i],
  }));
  return {
    series,
    refs: columnBytes(batch.refs),
    timestamps: columnBytes(batch.timestamps),
    values: columnBytes(batch.values),
  };
}

/** Checks what a peer sent: a corrupt batch is an error here, never a crash in storage. */
export function sampleBatchFromProto(msg: SampleBatchMsg): SampleBatch {
  if (msg.refs.length % 4 !== 0) throw new Error('sample batch: refs column is not whole uint32s');
  const n = msg.refs.length / 4;
  const refs = new Uint32Array(n);
  const dv = new DataView(msg.refs.buffer, msg.refs.byteOffset, msg.refs.byteLength);
  for (let i = 0; i < n; i++) {
    const r = dv.getUint32(i * 4, true);
    if (r >= msg.series.length)
      throw new Error(`sample batch: sample ${i} refers to series ${r} of ${msg.series.length}`);
    refs[i] = r;
  }
  return {
    series: msg.series.map((s) => s.labels.map((l) => ({ name: l.name, value: l.value }))),
    hashes: msg.series.map((s) => s.hash),
    refs,
    timestamps: float64Column(msg.timestamps, n),
    values: float64Column(msg.values, n),
  };
}

/**
 * The encoded Series message, kept on the label set. A scrape loop hands the same Labels array to
 * every batch, so its series are encoded once, not on every scrape: re-encoding every label
 * string of 100k series per scrape was the largest cost of the scrape path. A slot, not a
 * WeakMap: 100k ephemerons made every major garbage collection slower.
 */
const SERIES_BYTES = Symbol('pharos.proto.series');
type Encoded = { readonly hash: string; readonly bytes: Uint8Array };

/** The encoded Series message of a label set. */
/**
 * The Series message, byte for byte what the generated encoder writes. Hand-written because that
 * one (a writer per message, a fork per label) took 8 µs a series, most of the cost of a log
 * segment's first record of a big target.
 */
export function encodeSeries(labels: Labels, hash: string): Uint8Array {
  const n = labels.length;
  if (lengths.length < 3 * n + 1) lengths = new Int32Array(2 * (3 * n + 1));
  let size = 0;
  for (let i = 0; i < n; i++) {
    const name = Buffer.byteLength(labels[i].name, 'utf8');
    const value = Buffer.byteLength(labels[i].value, 'utf8');
    const label =
      (name > 0 ? 1 + varintSize(name) + name : 0) + (value > 0 ? 1 + varintSize(value) + value : 0);
    lengths[3 * i] = name;
    lengths[3 * i + 1] = value;
    lengths[3 * i + 2] = label;
    size += 1 + varintSize(label) + label;
  }
  const hashLen = Buffer.byteLength(hash, 'utf8');
  if (hashLen > 0) size += 1 + varintSize(hashLen) + hashLen;
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < n; i++) {
    out[o++] = 0x0a;
    o = putVarint(out, o, lengths[3 * i + 2]);
    if (lengths[3 * i] > 0) {
      out[o++] = 0x0a;
      o = putVarint(out, o, lengths[3 * i]);
      o = putString(out, o, labels[i].name, lengths[3 * i]);
    }
    if (lengths[3 * i + 1] > 0) {
      out[o++] = 0x12;
      o = putVarint(out, o, lengths[3 * i + 1]);
      o = putString(out, o, labels[i].value, lengths[3 * i + 1]);
    }
  }
  if (hashLen > 0) {
    out[o++] = 0x12;
    o = putVarint(out, o, hashLen);
    putString(out, o, hash, hashLen);
  }
  return out;
}

let lengths = new Int32Array(64);
const utf8 = new TextEncoder();

function putVarint(out: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  return o;
}

function putString(out: Uint8Array, o: number, s: string, bytes: number): number {
  if (bytes === s.length) {
    for (let i = 0; i < bytes; i++) out[o + i] = s.charCodeAt(i);
    return o + bytes;
  }
  return o + utf8.encodeInto(s, out.subarray(o, o + bytes)).written;
}

/** The encoded Series message of a label set, cached while the label set lives. */
export function seriesBytes(labels: Labels, hash: string): Uint8Array {
  let c = (labels as Slotted<Encoded>)[SERIES_BYTES];
  if (c === undefined || c.hash !== hash) {
    c = { hash, bytes: encodeSeries(labels, hash) };
    setLabelsSlot(labels, SERIES_BYTES, c);
  }
  return c.bytes;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * The record format of the Kafka topic (and of write-ahead-log records older than
 * SampleBatchSegmentCodec): the SampleBatch message, framed here around the cached series bytes.
 * Byte for byte what the generated encoder writes.
 */
export function encodeSampleBatch(batch: SampleBatch): Uint8Array {
  const n = batch.series.length;
  const parts: Uint8Array[] = new Array(n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const b = seriesBytes(batch.series[i], batch.hashes[i]);
    parts[i] = b;
    size += 1 + varintSize(b.length) + b.length;
  }
  const columns = [columnBytes(batch.refs), columnBytes(batch.timestamps), columnBytes(batch.values)];
  // proto3 leaves empty bytes fields out.
  for (const c of columns) if (c.length > 0) size += 1 + varintSize(c.length) + c.length;
  const out = new Uint8Array(size);
  let o = 0;
  const put = (tag: number, b: Uint8Array) => {
    out[o++] = tag;
    let len = b.length;
    while (len >= 0x80) {
      out[o++] = (len & 0x7f) | 0x80;
      len = Math.floor(len / 128);
    }
    out[o++] = len;
    if (b.length < 64) for (let k = 0; k < b.length; k++) out[o + k] = b[k];
    else out.set(b, o);
    o += b.length;
  };
  for (let i = 0; i < n; i++) put((1 << 3) | 2, parts[i]);
  columns.forEach((c, i) => {
    if (c.length > 0) put(((i + 2) << 3) | 2, c);
  });
  return out;
}

export function decodeSampleBatch(bytes: Uint8Array): SampleBatch {
  return sampleBatchFromProto(SampleBatchMsg.decode(bytes));
}
