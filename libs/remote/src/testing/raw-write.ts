import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { snappyEncode } from '../snappy.js';

/** A label's name and value as bytes or text: bytes let a test send what is not UTF-8. */
export type RawLabel = readonly [string | Uint8Array, string | Uint8Array];
export type RawSeries = readonly [
  labels: readonly RawLabel[],
  samples: ReadonlyArray<readonly [t: number, v: number]>,
];

/**
 * A snappy-compressed remote write 1.0 WriteRequest with the labels exactly as given: unsorted,
 * repeated, empty or invalid UTF-8, which the real encoder never writes but senders may.
 */
export function rawWriteRequest(series: readonly RawSeries[]): Uint8Array {
  const w = new BinaryWriter();
  const bytes = (x: string | Uint8Array) => (typeof x === 'string' ? new TextEncoder().encode(x) : x);
  for (const [labels, samples] of series) {
    w.uint32((1 << 3) | 2).fork();
    for (const [name, value] of labels) {
      w.uint32((1 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).bytes(bytes(name));
      w.uint32((2 << 3) | 2).bytes(bytes(value));
      w.join();
    }
    for (const [t, v] of samples) {
      w.uint32((2 << 3) | 2).fork();
      w.uint32((1 << 3) | 1).double(v);
      w.uint32((2 << 3) | 0).int64(t);
      w.join();
    }
    w.join();
  }
  return snappyEncode(w.finish());
}
