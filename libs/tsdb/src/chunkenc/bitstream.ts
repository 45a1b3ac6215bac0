/** Appends bits most-significant first into a growing byte buffer. */
export class BitWriter {
  private buf: Uint8Array;
  private bits = 0;

  constructor(initialBytes = 32) {
    this.buf = new Uint8Array(initialBytes);
  }

  get bitLength(): number {
    return this.bits;
  }

  /** Writes the low `n` bits of `v` (n ≤ 32). */
  writeBits(v: number, n: number): void {
    if (n === 0) return;
    const bits = this.bits;
    if ((bits + n + 7) >>> 3 > this.buf.length) this.grow(n);
    const buf = this.buf;
    this.bits = bits + n;
    let pos = bits >>> 3;
    const free = 8 - (bits & 7);
    // Unrolled by case rather than a loop of generic steps: every sample of every append
    // comes through here, several times.
    if (n <= free) {
      buf[pos] |= (v & ((1 << n) - 1)) << (free - n);
      return;
    }
    n -= free; // 1..31 bits left after the current byte
    buf[pos++] |= (v >>> n) & ((1 << free) - 1);
    while (n >= 8) {
      n -= 8;
      buf[pos++] = (v >>> n) & 0xff;
    }
    if (n > 0) buf[pos] = (v << (8 - n)) & 0xff;
  }

  writeBit(b: boolean | number): void {
    if ((this.bits + 8) >>> 3 > this.buf.length) this.grow(1);
    if (b) this.buf[this.bits >>> 3] |= 0x80 >>> (this.bits & 7);
    this.bits++;
  }

  /** Overwrites a 16-bit big-endian field at a byte offset (the chunk header). */
  setUint16(byteOffset: number, v: number): void {
    this.buf[byteOffset] = v >>> 8;
    this.buf[byteOffset + 1] = v & 0xff;
  }

  /** The bytes written so far (a copy). */
  bytes(): Uint8Array {
    return this.buf.slice(0, (this.bits + 7) >>> 3);
  }

  /** The bytes written so far, without copying; valid until the next write. */
  view(): Uint8Array {
    return this.buf.subarray(0, (this.bits + 7) >>> 3);
  }

  private grow(n: number): void {
    const need = ((this.bits + n + 7) >>> 3) + 8;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}

export class BitReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    startByte = 0,
  ) {
    this.pos = startByte * 8;
  }

  /** Reads `n` bits (n ≤ 32) as an unsigned number; throws past the end of the data. */
  readBits(n: number): number {
    if (this.pos + n > this.buf.length * 8) throw new Error('chunk data ends early');
    let r = 0;
    while (n > 0) {
      const used = this.pos & 7;
      const avail = 8 - used;
      const take = avail < n ? avail : n;
      const bits = (this.buf[this.pos >>> 3] >>> (avail - take)) & ((1 << take) - 1);
      r = r * (1 << take) + bits;
      n -= take;
      this.pos += take;
    }
    return r;
  }

  readBit(): number {
    if (this.pos >= this.buf.length * 8) throw new Error('chunk data ends early');
    const b = (this.buf[this.pos >>> 3] >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
}
