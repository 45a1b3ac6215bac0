import { compressSync, uncompressSync } from 'snappy';
import { RemoteProtocolError } from './prompb.js';

/** Remote write and read bodies are snappy block-compressed (not the framed format). */
export function snappyDecode(body: Uint8Array, maxBytes: number): Uint8Array {
  const n = uncompressedLength(body);
  if (n > maxBytes) {
    throw new RemoteProtocolError(`decompressed body of ${n} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  try {
    return uncompressSync(Buffer.from(body.buffer, body.byteOffset, body.byteLength)) as Buffer;
  } catch (e) {
    throw new RemoteProtocolError(`snappy: ${(e as Error).message}`);
  }
}

export function snappyEncode(data: Uint8Array): Uint8Array {
  return compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

/** The length a snappy block announces (its varint preamble), checked before allocating it. */
function uncompressedLength(body: Uint8Array): number {
  let n = 0;
  let shift = 0;
  for (let i = 0; i < 5 && i < body.length; i++) {
    n += (body[i] & 0x7f) * 2 ** shift;
    if ((body[i] & 0x80) === 0) return n;
    shift += 7;
  }
  throw new RemoteProtocolError('snappy: corrupt input (bad length preamble)');
}
