// LevelDB key layout. Every key starts with a one-byte kind; refs and times are big-endian so
// that LevelDB's byte order is numeric order:
//   S ref            -> series record (labels, first sample time)
//   C ref maxTime    -> chunk: 8 bytes minTime, then the XOR chunk
//   O ref maxTime seq -> out-of-order chunk, same value layout; may overlap other chunks
//   T ref            -> max time of the series' newest stored chunk
//   h gen piece      -> head checkpoint generation `gen`, piece `piece`: records of ref (4),
//                       chunk end (8), length (4) and the open chunk so far, for every open head
//   H ref            -> head checkpoint of older versions: 8 bytes chunk end, then the open chunk
//   P name FF value FF ref -> posting of earlier versions, dropped at open (the label index is
//                       rebuilt from the series records)
//   M name           -> metadata (next series ref)

export const KIND_SERIES = 0x53;
export const KIND_CHUNK = 0x43;
export const KIND_MAXTIME = 0x54;
export const KIND_META = 0x4d;
export const KIND_OOO = 0x4f;
export const KIND_HEAD = 0x48;
export const KIND_HEADS = 0x68;
export const KIND_POSTING = 0x50;

const TIME_OFFSET = 2 ** 53;
const TWO32 = 4294967296;

export function writeTime(buf: Uint8Array, at: number, t: number): void {
  const x = t + TIME_OFFSET;
  const hi = Math.floor(x / TWO32);
  const lo = x - hi * TWO32;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(at, hi);
  dv.setUint32(at + 4, lo);
}

export function readTime(buf: Uint8Array, at: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return dv.getUint32(at) * TWO32 + dv.getUint32(at + 4) - TIME_OFFSET;
}

function refKey(kind: number, ref: number, extra = 0): Uint8Array {
  const k = new Uint8Array(5 + extra);
  k[0] = kind;
  new DataView(k.buffer).setUint32(1, ref);
  return k;
}

export function seriesKey(ref: number): Uint8Array {
  return refKey(KIND_SERIES, ref);
}

export function maxTimeKey(ref: number): Uint8Array {
  return refKey(KIND_MAXTIME, ref);
}

export function chunkKey(ref: number, maxTime: number): Uint8Array {
  const k = refKey(KIND_CHUNK, ref, 8);
  writeTime(k, 5, maxTime);
  return k;
}

/** The first key after every chunk of `ref`. */
export function chunkKeyEnd(ref: number): Uint8Array {
  return refKey(KIND_CHUNK, ref + 1);
}

export function oooChunkKey(ref: number, maxTime: number, seq: number): Uint8Array {
  const k = refKey(KIND_OOO, ref, 12);
  writeTime(k, 5, maxTime);
  new DataView(k.buffer).setUint32(13, seq);
  return k;
}

export function headsKey(gen: number, piece: number): Uint8Array {
  const k = refKey(KIND_HEADS, gen, 4);
  new DataView(k.buffer).setUint32(5, piece);
  return k;
}

/** Both chunk kinds of one series from `mint` on: chunks are keyed by max time. */
export function chunkRange(kind: number, ref: number, mint: number): { gte: Uint8Array; lt: Uint8Array } {
  const gte = refKey(kind, ref, 8);
  writeTime(gte, 5, mint === -Infinity ? -(2 ** 53) : mint);
  return { gte, lt: refKey(kind, ref + 1) };
}

/** Chunks of one series whose max time is before `t`. */
export function chunksBefore(kind: number, ref: number, t: number): { gte: Uint8Array; lt: Uint8Array } {
  const lt = refKey(kind, ref, 8);
  writeTime(lt, 5, t);
  return { gte: refKey(kind, ref), lt };
}

export function refOf(key: Uint8Array): number {
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(1);
}

export function metaKey(name: string): Uint8Array {
  const n = new TextEncoder().encode(name);
  const k = new Uint8Array(1 + n.length);
  k[0] = KIND_META;
  k.set(n, 1);
  return k;
}

export function kindRange(kind: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(kind), lt: Uint8Array.of(kind + 1) };
}
