import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isStaleNaN, STALE_NAN } from '@pharos/model';
import { BitWriter } from './bitstream.js';
import { decodeXorInto, XOR_APPENDER_SLOTS, XorAppender, XorIterator } from './xor.js';

const bits = new DataView(new ArrayBuffer(8));
function bitsOf(v: number): string {
  bits.setFloat64(0, v);
  return bits.getUint32(0).toString(16) + ':' + bits.getUint32(4).toString(16);
}

// Decoded values go into a Float64Array: V8 may canonicalise a NaN's payload inside a plain array,
// which would hide whether the chunk kept the staleness marker's bits.
function roundTrip(ts: number[], vs: Float64Array): { t: number[]; v: Float64Array } {
  const a = new XorAppender();
  for (let i = 0; i < ts.length; i++) a.append(ts[i], vs[i]);
  const it = new XorIterator(a.bytes());
  const t: number[] = [];
  const v = new Float64Array(ts.length);
  while (it.next()) v[t.push(it.t) - 1] = it.v;
  // The bulk decoder of the read path must agree with the iterator sample for sample.
  const bt = new Float64Array(ts.length);
  const bv = new Float64Array(ts.length);
  const n = decodeXorInto(a.bytes(), -Infinity, Infinity, -Infinity, bt, bv, 0);
  assert.deepEqual(Array.from(bt.subarray(0, n)), t);
  assert.deepEqual(allBits(bv.subarray(0, n)), allBits(v.subarray(0, t.length)));
  return { t, v };
}

function allBits(v: Float64Array): string[] {
  return Array.from({ length: v.length }, (_, i) => bitsOf(v[i]));
}

describe('XOR chunk', () => {
  it('writes the same chunk with its state in a shared array, touching only its slots', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.double()), {
          minLength: 1,
          maxLength: 130,
        }),
        (steps) => {
          const own = new XorAppender();
          const shared = new Float64Array(3 + XOR_APPENDER_SLOTS + 2).fill(7);
          const inShared = new XorAppender(shared, 3);
          let t = 1_700_000_000_000;
          for (const [dt, v] of steps) {
            t += dt;
            own.append(t, v);
            inShared.append(t, v);
          }
          assert.deepEqual(inShared.bytes(), own.bytes());
          assert.equal(inShared.maxTime, own.maxTime);
          assert.equal(inShared.minTime, own.minTime);
          assert.deepEqual(
            [...shared.subarray(0, 3), ...shared.subarray(3 + XOR_APPENDER_SLOTS)],
            [7, 7, 7, 7, 7],
          );
        },
      ),
    );
  });

  it('round-trips special values bit for bit', () => {
    const vs = Float64Array.from([
      0,
      -0,
      NaN,
      0,
      Infinity,
      -Infinity,
      1.5,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -1e-300,
    ]);
    vs[3] = STALE_NAN; // set in place: an array literal may not keep the payload
    const ts = Array.from(vs, (_, i) => 1_700_000_000_000 + i * 15_000);
    const got = roundTrip(ts, vs);
    assert.deepEqual(got.t, ts);
    assert.deepEqual(allBits(got.v), allBits(vs));
    assert.ok(isStaleNaN(got.v[3]));
  });

  it('compresses a regular counter to a few bits per sample', () => {
    const a = new XorAppender();
    for (let i = 0; i < 120; i++) a.append(1_700_000_000_000 + i * 15_000, 1000 + i * 3);
    assert.ok(a.bytes().length < 120 * 2.5, `${a.bytes().length} bytes for 120 samples`);
  });

  it('round-trips random values and timestamps (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 45), max: 2 ** 45 }),
        fc.array(
          fc.tuple(
            fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 2 ** 40 })),
            fc.oneof(
              fc.double(),
              fc.integer().map((n) => n * 1.0),
              fc.constant('stale' as const),
            ),
          ),
          { minLength: 1, maxLength: 120 },
        ),
        (t0, rows) => {
          const ts: number[] = [];
          let t = t0;
          for (const [d] of rows) {
            t += d;
            ts.push(t);
          }
          const vs = new Float64Array(rows.length);
          rows.forEach(([, v], i) => (vs[i] = v === 'stale' ? STALE_NAN : v));
          const got = roundTrip(ts, vs);
          assert.deepEqual(got.t, ts);
          assert.deepEqual(allBits(got.v), allBits(vs));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('handles delta-of-delta values at each bucket edge', () => {
    const edges = [8192, -8191, 8193, 65536, -65535, 65537, 524288, -524287, 524289, -(2 ** 40), 2 ** 40];
    const ts = [0, 100_000];
    for (const dod of edges) ts.push(ts[ts.length - 1] + (ts[ts.length - 1] - ts[ts.length - 2]) + dod);
    const got = roundTrip(ts, new Float64Array(ts.length));
    assert.deepEqual(got.t, ts);
  });

  it('fails cleanly on truncated data', () => {
    const a = new XorAppender();
    for (let i = 0; i < 10; i++) a.append(i * 1000, Math.random());
    const it = new XorIterator(a.bytes().subarray(0, 12));
    assert.throws(() => {
      while (it.next());
    }, /ends early/);
    const out = new Float64Array(10);
    assert.throws(
      () => decodeXorInto(a.bytes().subarray(0, 12), -Infinity, Infinity, -Infinity, out, out, 0),
      /ends early/,
    );
  });
});

describe('BitWriter', () => {
  it('writes any mix of bit fields exactly as a bit-by-bit reference does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc
            .integer({ min: 0, max: 32 })
            .chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: 2 ** 32 - 1 }))),
          { maxLength: 60 },
        ),
        (fields) => {
          const w = new BitWriter(1);
          let ref = '';
          for (const [n, v] of fields) {
            if (n === 1 && v % 2 === 0) w.writeBit(0);
            else w.writeBits(v, n);
            for (let k = n - 1; k >= 0; k--) ref += Math.floor(v / 2 ** k) % 2;
          }
          const got = Array.from(w.bytes(), (b) => b.toString(2).padStart(8, '0')).join('');
          assert.equal(w.bitLength, ref.length);
          assert.equal(got, ref.padEnd(Math.ceil(ref.length / 8) * 8, '0'));
        },
      ),
      { numRuns: 500 },
    );
  });
});
