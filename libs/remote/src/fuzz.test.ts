import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import {
  decodeWriteRequest,
  encodeWriteRequest,
  RemoteProtocolError,
  snappyDecode,
  snappyEncode,
} from './index.js';

function validRequest(): Uint8Array {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < 5; i++) {
    const s = b.addSeries(labelsFrom({ __name__: 'req_total', pod: `p${i}`, path: '/api/é' }));
    b.add(s, 1_700_000_000_000 + i, i * 1.5);
  }
  return encodeWriteRequest(b.build());
}

const flips = fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.nat(255) }), {
  minLength: 1,
  maxLength: 6,
});

function corrupt(src: Uint8Array, edits: ReadonlyArray<{ at: number; byte: number }>): Uint8Array {
  const out = Uint8Array.from(src);
  for (const e of edits) out[Math.floor(e.at * (out.length - 1))] = e.byte;
  return out;
}

/** A sender's corrupt body must be refused as a protocol error (400), never crash the receiver. */
function decodeOrRefuse(body: Uint8Array): void {
  try {
    decodeWriteRequest(snappyDecode(body, 1 << 20));
  } catch (e) {
    assert.ok(e instanceof RemoteProtocolError, String(e));
  }
}

describe('remote write decoder under corrupt bodies', () => {
  const proto = validRequest();
  const compressed = snappyEncode(proto);

  it('bytes changed in the snappy body decode or give a RemoteProtocolError', () => {
    fc.assert(
      fc.property(flips, (edits) => decodeOrRefuse(corrupt(compressed, edits))),
      { numRuns: 5000 },
    );
  });

  it('bytes changed in the protobuf decode or give a RemoteProtocolError', () => {
    fc.assert(
      fc.property(flips, (edits) => decodeOrRefuse(snappyEncode(corrupt(proto, edits)))),
      { numRuns: 5000 },
    );
  });

  it('a truncated body at any length gives a RemoteProtocolError or a prefix of the samples', () => {
    for (let n = 0; n < compressed.length; n++) decodeOrRefuse(compressed.subarray(0, n));
    for (let n = 0; n < proto.length; n++) decodeOrRefuse(snappyEncode(proto.subarray(0, n)));
  });
});
