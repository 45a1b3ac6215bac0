import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isStaleNaN, LabelMatcher, labelsFrom, SampleBatchBuilder, STALE_NAN } from '@pharos/model';
import {
  decodeReadRequest,
  decodeReadResponse,
  decodeWriteRequest,
  encodeReadRequest,
  encodeReadResponse,
  encodeWriteRequest,
  RemoteProtocolError,
  snappyDecode,
  snappyEncode,
} from './index.js';

describe('remote write decoding', () => {
  it('round-trips samples bit-exactly, staleness markers included', () => {
    const b = new SampleBatchBuilder();
    const a = b.addSeries(labelsFrom({ __name__: 'up', job: 'x' }));
    const c = b.addSeries(labelsFrom({ __name__: 'temp', room: 'b' }));
    b.add(a, 1000, 1);
    b.add(a, 2000, STALE_NAN);
    b.add(c, -5000, -0);
    b.add(c, 1_700_000_000_123, Infinity);
    const got = decodeWriteRequest(snappyDecode(snappyEncode(encodeWriteRequest(b.build())), 1 << 20)).batch;
    assert.deepEqual(got.series, b.build().series);
    assert.deepEqual([...got.timestamps], [1000, 2000, -5000, 1_700_000_000_123]);
    assert.equal(got.values[0], 1);
    assert.ok(isStaleNaN(got.values[1]));
    assert.ok(Object.is(got.values[2], -0));
    assert.equal(got.values[3], Infinity);
  });

  it('sorts labels a sender left unsorted and rejects invalid ones', () => {
    const b = new SampleBatchBuilder();
    b.push(
      [
        { name: 'z', value: '1' },
        { name: '__name__', value: 'm' },
      ],
      1,
      1,
    );
    assert.deepEqual(decodeWriteRequest(encodeWriteRequest(b.build())).batch.series[0], [
      { name: '__name__', value: 'm' },
      { name: 'z', value: '1' },
    ]);
    const bad = new SampleBatchBuilder();
    bad.push([{ name: 'job', value: 'x' }], 1, 1);
    assert.throws(() => decodeWriteRequest(encodeWriteRequest(bad.build())), /no metric name/);
  });

  it('never throws anything but a protocol error on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeWriteRequest(bytes);
        } catch (e) {
          assert.ok(e instanceof RemoteProtocolError, String(e));
        }
        try {
          snappyDecode(bytes, 1 << 16);
        } catch (e) {
          assert.ok(e instanceof RemoteProtocolError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a body that would decompress past the limit before allocating it', () => {
    const big = snappyEncode(new Uint8Array(100_000));
    assert.throws(() => snappyDecode(big, 1000), /exceeds the limit of 1000 bytes/);
  });
});

describe('remote read', () => {
  it('decodes queries and encodes sample responses', () => {
    const req = encodeReadRequest([
      {
        startMs: 1000,
        endMs: 9000,
        matchers: [new LabelMatcher('=', '__name__', 'up'), new LabelMatcher('=~', 'job', 'a|b')],
      },
    ]);
    const { queries } = decodeReadRequest(req);
    assert.equal(queries[0].startMs, 1000);
    assert.equal(queries[0].endMs, 9000);
    assert.deepEqual(
      queries[0].matchers.map((m) => m.toString()),
      ['__name__="up"', 'job=~"a|b"'],
    );
    const res = encodeReadResponse([
      [
        {
          labels: labelsFrom({ __name__: 'up', job: 'a' }),
          timestamps: Float64Array.of(1000, 2000),
          values: Float64Array.of(1, 0),
        },
      ],
    ]);
    const back = decodeReadResponse(res);
    assert.deepEqual([...back[0][0].timestamps], [1000, 2000]);
    assert.deepEqual([...back[0][0].values], [1, 0]);
  });
});
