import { BitReader, BitWriter } from './bitstream.js';

// Gorilla-style float chunk, laid out as Prometheus' XOR chunk: a 2-byte sample count, the first
// timestamp as a zigzag varint and its value as 64 raw bits, the second timestamp as a varint
// delta, then delta-of-delta timestamps in 14/17/20/64-bit buckets and XOR-compressed values.
// Doubles are handled as two uint32 halves so no BigInt is needed.

export const MAX_SAMPLES_PER_CHUNK = 120;

const TWO32 = 4294967296;
const scratch = new DataView(new ArrayBuffer(8));

function writeUvarint(w: BitWriter, v: number): void {
  while (v >= 128) {
    w.writeBits((v % 128) | 128, 8);
    v = Math.floor(v / 128);
  }
  w.writeBits(v, 8);
}

function readUvarint(r: BitReader): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = r.readBits(8);
    v += (b & 127) * mul;
    if (b < 128) return v;
    mul *= 128;
  }
  throw new Error('varint overflow in chunk');
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function unzigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// As object fields the doubles would each be a heap number of their own, and a head of 100k series
// is then a million objects for every major garbage collection to mark.
// The newest sample's time and value halves first: a series keeps the same three, in the same
// order, and shares them with its head appender.
const A_T = 0;
const A_HI = 1;
const A_LO = 2;
const A_MIN_TIME = 3;
/** Slots of the state array an appender uses from its base. */
export const XOR_APPENDER_SLOTS = 4;

/**
 * Appends samples in timestamp order into an XOR chunk. It is its own bit writer, and may keep
 * its doubles (times, value halves) in its series' typed array: the head appends to 100k series
 * per scrape, and each object between a series and its bytes is one more cache miss per sample.
 */
export class XorAppender extends BitWriter {
  private n = 0;
  private tDelta = 0;
  private leading = 0xff;
  private trailing = 0;

  /** `d`, from `base`: XOR_APPENDER_SLOTS doubles of state, the appender's own unless given. */
  constructor(
    private readonly d = new Float64Array(XOR_APPENDER_SLOTS),
    private readonly base = 0,
  ) {
    super(128);
    this.writeBits(0, 16);
  }

  get minTime(): number {
    return this.d[this.base + A_MIN_TIME];
  }

  get maxTime(): number {
    return this.d[this.base + A_T];
  }

  get count(): number {
    return this.n;
  }

  append(t: number, v: number): void {
    scratch.setFloat64(0, v);
    const hi = scratch.getUint32(0);
    const lo = scratch.getUint32(4);
    const d = this.d;
    const b = this.base;
    if (this.n === 0) {
      writeUvarint(this, zigzag(t));
      this.writeBits(hi, 32);
      this.writeBits(lo, 32);
      d[b + A_MIN_TIME] = t;
    } else if (this.n === 1) {
      const delta = t - d[b + A_T];
      writeUvarint(this, delta);
      this.writeValue(hi, lo);
      this.tDelta = delta;
    } else {
      const delta = t - d[b + A_T];
      const dod = delta - this.tDelta;
      if (dod === 0) this.writeBit(0);
      else if (dod >= -8191 && dod <= 8192) {
        this.writeBits(0b10, 2);
        this.writeBits(dod & 0x3fff, 14);
      } else if (dod >= -65535 && dod <= 65536) {
        this.writeBits(0b110, 3);
        this.writeBits(dod & 0x1ffff, 17);
      } else if (dod >= -524287 && dod <= 524288) {
        this.writeBits(0b1110, 4);
        this.writeBits(dod & 0xfffff, 20);
      } else {
        this.writeBits(0b1111, 4);
        const dhi = Math.floor(dod / TWO32);
        this.writeBits(dhi >>> 0, 32);
        this.writeBits((dod - dhi * TWO32) >>> 0, 32);
      }
      this.writeValue(hi, lo);
      this.tDelta = delta;
    }
    d[b + A_T] = t;
    d[b + A_HI] = hi;
    d[b + A_LO] = lo;
    this.n++;
    this.setUint16(0, this.n);
  }

  private writeValue(hi: number, lo: number): void {
    const xhi = (hi ^ this.d[this.base + A_HI]) >>> 0;
    const xlo = (lo ^ this.d[this.base + A_LO]) >>> 0;
    if (xhi === 0 && xlo === 0) {
      this.writeBit(0);
      return;
    }
    this.writeBit(1);
    let leading = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    const trailing = xlo !== 0 ? ctz32(xlo) : 32 + ctz32(xhi);
    if (leading >= 32) leading = 31; // 5 bits hold at most 31
    if (this.leading !== 0xff && leading >= this.leading && trailing >= this.trailing) {
      // Fits the previous window: only the meaningful bits.
      this.writeBit(0);
      writeShifted(this, xhi, xlo, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    this.leading = leading;
    this.trailing = trailing;
    const sig = 64 - leading - trailing;
    this.writeBit(1);
    this.writeBits(leading, 5);
    this.writeBits(sig & 63, 6); // 64 significant bits are written as 0
    writeShifted(this, xhi, xlo, trailing, sig);
  }
}

/** Writes bits [shift, shift+n) of the 64-bit value hi:lo. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  let h: number;
  let l: number;
  if (shift >= 32) {
    h = 0;
    l = hi >>> (shift - 32);
  } else if (shift === 0) {
    h = hi;
    l = lo;
  } else {
    l = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    h = hi >>> shift;
  }
  if (n > 32) {
    w.writeBits(h, n - 32);
    w.writeBits(l, 32);
  } else {
    w.writeBits(n === 32 ? l : l & ((1 << n) - 1), n);
  }
}

export function chunkSampleCount(chunk: Uint8Array): number {
  return (chunk[0] << 8) | chunk[1];
}

/** Reads an XOR chunk sample by sample. */
export class XorIterator {
  private readonly r: BitReader;
  private readonly total: number;
  private i = 0;
  private tDelta = 0;
  private hi = 0;
  private lo = 0;
  private leading = 0;
  private trailing = 0;
  t = 0;
  v = 0;

  constructor(chunk: Uint8Array) {
    if (chunk.length < 2) throw new Error('chunk too short');
    this.total = chunkSampleCount(chunk);
    this.r = new BitReader(chunk, 2);
  }

  next(): boolean {
    if (this.i >= this.total) return false;
    const r = this.r;
    if (this.i === 0) {
      this.t = unzigzag(readUvarint(r));
      this.hi = r.readBits(32);
      this.lo = r.readBits(32);
    } else if (this.i === 1) {
      this.tDelta = readUvarint(r);
      this.t += this.tDelta;
      this.readValue();
    } else {
      // The bucket is told by the number of leading 1 bits (0 to 4) before a 0.
      let ones = 0;
      while (ones < 4 && r.readBit() === 1) ones++;
      let dod: number;
      if (ones === 0) dod = 0;
      else if (ones < 4) dod = signExtend(r.readBits(DOD_BITS[ones]), DOD_BITS[ones]);
      else {
        const dhi = r.readBits(32) | 0;
        dod = dhi * TWO32 + r.readBits(32);
      }
      this.tDelta += dod;
      this.t += this.tDelta;
      this.readValue();
    }
    scratch.setUint32(0, this.hi);
    scratch.setUint32(4, this.lo);
    this.v = scratch.getFloat64(0);
    this.i++;
    return true;
  }

  private readValue(): void {
    const r = this.r;
    if (r.readBit() === 0) return;
    if (r.readBit() === 1) {
      this.leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
    }
    const sig = 64 - this.leading - this.trailing;
    let h = 0;
    let l: number;
    if (sig > 32) {
      h = r.readBits(sig - 32);
      l = r.readBits(32);
    } else {
      l = r.readBits(sig);
    }
    // Shift h:l left by `trailing` back into place, then XOR.
    const s = this.trailing;
    let xhi: number;
    let xlo: number;
    if (s >= 32) {
      xhi = (l << (s - 32)) >>> 0;
      xlo = 0;
    } else if (s === 0) {
      xhi = h;
      xlo = l;
    } else {
      xhi = ((h << s) | (l >>> (32 - s))) >>> 0;
      xlo = (l << s) >>> 0;
    }
    this.hi = (this.hi ^ xhi) >>> 0;
    this.lo = (this.lo ^ xlo) >>> 0;
  }
}

const DOD_BITS = [0, 14, 17, 20];

function signExtend(v: number, bits: number): number {
  return v > 2 ** (bits - 1) ? v - 2 ** bits : v;
}

/** 32 bits of `buf` starting at bit `pos`; `buf` is padded so reads past the data see zeros. */
function peek32(buf: Uint8Array, pos: number): number {
  const i = pos >>> 3;
  const o = pos & 7;
  const w = ((buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]) >>> 0;
  return o === 0 ? w : ((w << o) | (buf[i + 4] >>> (8 - o))) >>> 0;
}

const padded = { buf: new Uint8Array(512) };

// A double assembled from its two 32-bit halves through aliased typed arrays: cheaper per sample
// than a DataView, and bit-exact. The halves are stored in the host's byte order.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Reads an unsigned varint at bit `pos`; returns the value and the new position. */
function varintAt(buf: Uint8Array, pos: number, out: { pos: number }): number {
  let v = 0;
  let mul = 1;
  for (let k = 0; k < 10; k++) {
    const b = peek32(buf, pos) >>> 24;
    pos += 8;
    v += (b & 127) * mul;
    if (b < 128) {
      out.pos = pos;
      return v;
    }
    mul *= 128;
  }
  throw new Error('varint overflow in chunk');
}

const cursor = { pos: 0 };

/**
 * Decodes a whole chunk into `ts`/`vs` from index `n`, keeping samples in [mint, maxt] that are
 * later than `after`; returns the new count. The same format as XorIterator, in one loop with
 * local state: reads are the hot path of every query.
 */
export function decodeXorInto(
  chunk: Uint8Array,
  mint: number,
  maxt: number,
  after: number,
  ts: Float64Array,
  vs: Float64Array,
  n: number,
): number {
  const total = chunkSampleCount(chunk);
  if (total === 0) return n;
  if (padded.buf.length < chunk.length + 8) padded.buf = new Uint8Array(chunk.length * 2 + 8);
  const buf = padded.buf;
  buf.set(chunk);
  buf.fill(0, chunk.length, chunk.length + 8);
  const limit = chunk.length * 8;
  let pos = 16;
  let t = unzigzag(varintAt(buf, pos, cursor));
  pos = cursor.pos;
  let hi = peek32(buf, pos);
  let lo = peek32(buf, pos + 32);
  pos += 64;
  let tDelta = 0;
  let leading = 0;
  let trailing = 0;
  for (let i = 0; i < total; i++) {
    if (i > 0) {
      if (i === 1) {
        tDelta = varintAt(buf, pos, cursor);
        pos = cursor.pos;
      } else {
        const w = peek32(buf, pos);
        let dod: number;
        if ((w & 0x80000000) === 0) {
          dod = 0;
          pos += 1;
        } else if ((w & 0x40000000) === 0) {
          dod = signExtend((w >>> 16) & 0x3fff, 14);
          pos += 16;
        } else if ((w & 0x20000000) === 0) {
          dod = signExtend((w >>> 12) & 0x1ffff, 17);
          pos += 20;
        } else if ((w & 0x10000000) === 0) {
          dod = signExtend((w >>> 8) & 0xfffff, 20);
          pos += 24;
        } else {
          pos += 4;
          const dhi = peek32(buf, pos) | 0;
          const dlo = peek32(buf, pos + 32);
          pos += 64;
          dod = dhi * TWO32 + dlo;
        }
        tDelta += dod;
      }
      t += tDelta;
      // Value: 0 = same; 10 = same window; 11 = new window (5 bits leading, 6 bits length).
      const c = peek32(buf, pos);
      if ((c & 0x80000000) === 0) pos += 1;
      else {
        if ((c & 0x40000000) === 0) pos += 2;
        else {
          leading = (c >>> 25) & 31;
          let sig = (c >>> 19) & 63;
          if (sig === 0) sig = 64;
          trailing = 64 - leading - sig;
          pos += 13;
        }
        const sig = 64 - leading - trailing;
        let h = 0;
        let l: number;
        if (sig > 32) {
          h = peek32(buf, pos) >>> (64 - sig);
          l = peek32(buf, pos + sig - 32);
        } else {
          l = sig === 32 ? peek32(buf, pos) : peek32(buf, pos) >>> (32 - sig);
        }
        pos += sig;
        let xhi: number;
        let xlo: number;
        if (trailing >= 32) {
          xhi = (l << (trailing - 32)) >>> 0;
          xlo = 0;
        } else if (trailing === 0) {
          xhi = h;
          xlo = l;
        } else {
          xhi = ((h << trailing) | (l >>> (32 - trailing))) >>> 0;
          xlo = (l << trailing) >>> 0;
        }
        hi = (hi ^ xhi) >>> 0;
        lo = (lo ^ xlo) >>> 0;
      }
    }
    if (pos > limit) throw new Error('chunk data ends early');
    if (t > maxt) break;
    if (t < mint || t <= after) continue;
    u32[HI] = hi;
    u32[LO] = lo;
    ts[n] = t;
    vs[n] = f64[0];
    n++;
  }
  return n;
}
