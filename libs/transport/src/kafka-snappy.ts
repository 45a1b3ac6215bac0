import { compressSync, uncompressSync } from 'snappy';

/**
 * Snappy for Kafka record batches. Java clients and the broker frame snappy data the way
 * snappy-java's SnappyOutputStream does (a magic header, then length-prefixed blocks), and the
 * broker decompresses batches to validate them, so raw snappy would be refused. kafkajs ships no
 * snappy codec; this one frames with the `snappy` package we already use for remote_write.
 */
const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const HEADER = 16; // magic, version 1, compatible version 1
const BLOCK = 32 * 1024; // snappy-java's default block size

export function snappyFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.alloc(HEADER)];
  MAGIC.copy(parts[0], 0);
  parts[0].writeInt32BE(1, 8);
  parts[0].writeInt32BE(1, 12);
  for (let o = 0; o < data.length; o += BLOCK) {
    const block = compressSync(data.subarray(o, o + BLOCK));
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

export function snappyUnframe(data: Buffer): Buffer {
  if (data.length < HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    // Unframed: some producers write a single raw snappy block.
    return uncompressSync(data) as Buffer;
  }
  const out: Buffer[] = [];
  for (let o = HEADER; o < data.length;) {
    if (o + 4 > data.length) throw new Error('truncated snappy block length');
    const len = data.readInt32BE(o);
    o += 4;
    if (len < 0 || o + len > data.length) throw new Error('truncated snappy block');
    out.push(uncompressSync(data.subarray(o, o + len)) as Buffer);
    o += len;
  }
  return Buffer.concat(out);
}

/** The codec in the shape kafkajs registers under CompressionTypes.Snappy. */
export const snappyCodec = () => ({
  compress: async (encoder: { buffer: Buffer }) => snappyFrame(encoder.buffer),
  decompress: async (buffer: Buffer) => snappyUnframe(buffer),
});
