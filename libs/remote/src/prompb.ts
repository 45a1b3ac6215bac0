// Prometheus remote write 1.0 and remote read (prompb) messages, decoded and encoded by hand:
// sample values are copied as raw bytes into Float64Arrays, so staleness markers (a NaN with a
// payload) arrive bit-exact, and a request costs no object per sample.
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  LabelMatcher,
  labelsHash,
  validateSeriesLabels,
  type Label,
  type Labels,
  type MatchType,
  type SampleBatch,
  type TimeSlice,
} from '@pharos/model';

export class RemoteProtocolError extends Error {}

export interface DecodedWrite {
  batch: SampleBatch;
  /** Native histogram samples in the request; not stored (float samples only, for now). */
  histograms: number;
  exemplars: number;
}

const compareByName = (a: Label, b: Label) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

/** A label, and whether its bytes were not UTF-8 (decoded with U+FFFD only to name it). */
function readLabel(r: BinaryReader, end: number): Label & { badUTF8: boolean } {
  let name = '';
  let value = '';
  let badUTF8 = false;
  const text = (bytes: Uint8Array) => {
    try {
      return utf8.decode(bytes);
    } catch {
      badUTF8 = true;
      return lossy.decode(bytes);
    }
  };
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) name = text(r.bytes());
    else if (no === 2 && wt === WireType.LengthDelimited) value = text(r.bytes());
    else r.skip(wt, no);
  }
  return { name, value, badUTF8 };
}

const seriesText = (labels: readonly Label[]) =>
  `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;

/**
 * Decodes a (decompressed) WriteRequest into one sample batch, a number of time series per step.
 * Any malformed part rejects the whole request, as Prometheus does, with a message the sender
 * can log.
 */
class WriteRequestDecoder {
  private readonly r: BinaryReader;
  private readonly series: Labels[] = [];
  private readonly hashes: string[] = [];
  private readonly refs: number[] = [];
  private readonly ts: number[] = [];
  // Values are collected as bytes and viewed as float64 at the end: no NaN ever becomes a number.
  private valueBytes = new Uint8Array(8 * 1024);
  private n = 0;
  private histograms = 0;
  private exemplars = 0;

  constructor(private readonly buf: Uint8Array) {
    this.r = new BinaryReader(buf);
  }

  /** Decodes up to `maxSeries` more time series; false once the request is all read. */
  step(maxSeries: number): boolean {
    try {
      for (let k = 0; k < maxSeries; k++) {
        if (this.r.pos >= this.r.len) return false;
        this.timeSeries();
      }
      return this.r.pos < this.r.len;
    } catch (e) {
      if (e instanceof RemoteProtocolError) throw e;
      throw new RemoteProtocolError(`malformed WriteRequest: ${(e as Error).message}`);
    }
  }

  private timeSeries(): void {
    const r = this.r;
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      return;
    }
    const end = r.uint32() + r.pos;
    if (end > r.len) throw new RemoteProtocolError('truncated time series');
    const labels: Label[] = [];
    let badUTF8 = false;
    const first = this.n;
    while (r.pos < end) {
      const [fno, fwt] = r.tag();
      if (fwt !== WireType.LengthDelimited) {
        r.skip(fwt, fno);
        continue;
      }
      const len = r.uint32();
      const fend = r.pos + len;
      if (fend > end) throw new RemoteProtocolError('truncated field in time series');
      if (fno === 1) {
        const l = readLabel(r, fend);
        badUTF8 ||= l.badUTF8;
        // An empty value is no label, as upstream's head has it: `a{x=""}` is the series `a`.
        if (l.value !== '' || l.badUTF8) labels.push({ name: l.name, value: l.value });
      } else if (fno === 2) {
        this.sample(fend);
      } else {
        if (fno === 3) this.exemplars++;
        if (fno === 4) this.histograms++;
        r.pos = fend;
      }
      if (r.pos !== fend) throw new RemoteProtocolError('malformed field in time series');
    }
    if (this.n === first) return;
    labels.sort(compareByName);
    if (badUTF8)
      throw new RemoteProtocolError(
        `invalid labels ${seriesText(labels)}: label names and values must be UTF-8`,
      );
    const problem = validateSeriesLabels(labels);
    if (problem !== null) throw new RemoteProtocolError(`invalid labels ${seriesText(labels)}: ${problem}`);
    const idx = this.series.length;
    this.series.push(labels);
    this.hashes.push(labelsHash(labels));
    for (let i = first; i < this.n; i++) this.refs.push(idx);
  }

  private sample(fend: number): void {
    const r = this.r;
    const at = this.n * 8;
    let t = 0;
    let sawValue = false;
    while (r.pos < fend) {
      const [sno, swt] = r.tag();
      if (sno === 1 && swt === WireType.Bit64) {
        if (at + 8 > this.valueBytes.length) {
          const grown = new Uint8Array(this.valueBytes.length * 2);
          grown.set(this.valueBytes);
          this.valueBytes = grown;
        }
        this.valueBytes.set(this.buf.subarray(r.pos, r.pos + 8), at);
        r.pos += 8;
        sawValue = true;
      } else if (sno === 2 && swt === WireType.Varint) t = Number(r.int64());
      else r.skip(swt, sno);
    }
    if (!sawValue) this.valueBytes.fill(0, at, at + 8);
    this.ts.push(t);
    this.n++;
  }

  result(): DecodedWrite {
    const values = new Float64Array(this.n);
    new Uint8Array(values.buffer).set(this.valueBytes.subarray(0, this.n * 8));
    return {
      batch: {
        series: this.series,
        hashes: this.hashes,
        refs: Uint32Array.from(this.refs),
        timestamps: Float64Array.from(this.ts),
        values,
      },
      histograms: this.histograms,
      exemplars: this.exemplars,
    };
  }
}

export function decodeWriteRequest(buf: Uint8Array): DecodedWrite {
  const d = new WriteRequestDecoder(buf);
  while (d.step(Infinity));
  return d.result();
}

/**
 * decodeWriteRequest with the loop given back between slices: a request of 100k series is about
 * a second of decoding, which would otherwise hold every probe and scrape of the process.
 */
export async function decodeWriteRequestSliced(buf: Uint8Array, slice: TimeSlice): Promise<DecodedWrite> {
  const d = new WriteRequestDecoder(buf);
  while (d.step(256)) await slice.tick();
  return d.result();
}

/** Encodes a WriteRequest: what a Prometheus sends, for tests and benchmarks. */
export function encodeWriteRequest(batch: SampleBatch): Uint8Array {
  const w = new BinaryWriter();
  const bySeries = new Map<number, number[]>();
  for (let i = 0; i < batch.refs.length; i++) {
    let l = bySeries.get(batch.refs[i]);
    if (!l) bySeries.set(batch.refs[i], (l = []));
    l.push(i);
  }
  const bits = new Uint8Array(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength);
  for (const [ref, samples] of bySeries) {
    w.uint32((1 << 3) | WireType.LengthDelimited).fork();
    writeLabels(w, batch.series[ref]);
    for (const i of samples) {
      w.uint32((2 << 3) | WireType.LengthDelimited).fork();
      w.uint32((1 << 3) | WireType.Bit64).raw(bits.subarray(i * 8, i * 8 + 8));
      w.uint32((2 << 3) | WireType.Varint).int64(batch.timestamps[i]);
      w.join();
    }
    w.join();
  }
  return w.finish();
}

function writeLabels(w: BinaryWriter, labels: Labels): void {
  for (const l of labels) {
    w.uint32((1 << 3) | WireType.LengthDelimited).fork();
    w.uint32((1 << 3) | WireType.LengthDelimited).string(l.name);
    w.uint32((2 << 3) | WireType.LengthDelimited).string(l.value);
    w.join();
  }
}

export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: LabelMatcher[];
}

const MATCH_TYPES: MatchType[] = ['=', '!=', '=~', '!~'];

/** Decodes a (decompressed) remote ReadRequest. */
export function decodeReadRequest(buf: Uint8Array): {
  queries: ReadQuery[];
  acceptedResponseTypes: number[];
} {
  const r = new BinaryReader(buf);
  const queries: ReadQuery[] = [];
  const accepted: number[] = [];
  try {
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) {
        const end = r.uint32() + r.pos;
        const q: ReadQuery = { startMs: 0, endMs: 0, matchers: [] };
        while (r.pos < end) {
          const [qno, qwt] = r.tag();
          if (qno === 1 && qwt === WireType.Varint) q.startMs = Number(r.int64());
          else if (qno === 2 && qwt === WireType.Varint) q.endMs = Number(r.int64());
          else if (qno === 3 && qwt === WireType.LengthDelimited) {
            const mend = r.uint32() + r.pos;
            let type = 0;
            let name = '';
            let value = '';
            while (r.pos < mend) {
              const [mno, mwt] = r.tag();
              if (mno === 1 && mwt === WireType.Varint) type = r.int32();
              else if (mno === 2 && mwt === WireType.LengthDelimited) name = r.string();
              else if (mno === 3 && mwt === WireType.LengthDelimited) value = r.string();
              else r.skip(mwt, mno);
            }
            const mt = MATCH_TYPES[type];
            if (mt === undefined) throw new RemoteProtocolError(`unknown matcher type ${type}`);
            try {
              q.matchers.push(new LabelMatcher(mt, name, value));
            } catch (e) {
              throw new RemoteProtocolError(`invalid matcher ${name}: ${(e as Error).message}`);
            }
          } else r.skip(qwt, qno);
        }
        queries.push(q);
      } else if (no === 2 && wt === WireType.Varint) accepted.push(r.int32());
      else if (no === 2 && wt === WireType.LengthDelimited) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) accepted.push(r.int32());
      } else r.skip(wt, no);
    }
  } catch (e) {
    if (e instanceof RemoteProtocolError) throw e;
    throw new RemoteProtocolError(`malformed ReadRequest: ${(e as Error).message}`);
  }
  return { queries, acceptedResponseTypes: accepted };
}

/** Encodes a ReadRequest, as a Prometheus with remote_read sends it: for tests. */
export function encodeReadRequest(queries: ReadQuery[]): Uint8Array {
  const w = new BinaryWriter();
  for (const q of queries) {
    w.uint32((1 << 3) | WireType.LengthDelimited).fork();
    w.uint32((1 << 3) | WireType.Varint).int64(q.startMs);
    w.uint32((2 << 3) | WireType.Varint).int64(q.endMs);
    for (const m of q.matchers) {
      w.uint32((3 << 3) | WireType.LengthDelimited).fork();
      w.uint32((1 << 3) | WireType.Varint).int32(MATCH_TYPES.indexOf(m.type));
      w.uint32((2 << 3) | WireType.LengthDelimited).string(m.name);
      w.uint32((3 << 3) | WireType.LengthDelimited).string(m.value);
      w.join();
    }
    w.join();
  }
  return w.finish();
}

export interface ReadSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

/** Encodes a ReadResponse of the SAMPLES type: one QueryResult per query. */
export function encodeReadResponse(results: ReadSeries[][]): Uint8Array {
  const w = new BinaryWriter();
  for (const series of results) {
    w.uint32((1 << 3) | WireType.LengthDelimited).fork();
    for (const s of series) {
      w.uint32((1 << 3) | WireType.LengthDelimited).fork();
      writeLabels(w, s.labels);
      const bits = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
      for (let i = 0; i < s.timestamps.length; i++) {
        w.uint32((2 << 3) | WireType.LengthDelimited).fork();
        w.uint32((1 << 3) | WireType.Bit64).raw(bits.subarray(i * 8, i * 8 + 8));
        w.uint32((2 << 3) | WireType.Varint).int64(s.timestamps[i]);
        w.join();
      }
      w.join();
    }
    w.join();
  }
  return w.finish();
}

/** Decodes a ReadResponse (SAMPLES): for tests. */
export function decodeReadResponse(buf: Uint8Array): ReadSeries[][] {
  const r = new BinaryReader(buf);
  const out: ReadSeries[][] = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    const body = r.bytes();
    const decoded = decodeWriteRequest(body).batch;
    out.push(
      decoded.series.map((labels, idx) => {
        const ts: number[] = [];
        const vs: number[] = [];
        decoded.refs.forEach((ref, i) => {
          if (ref !== idx) return;
          ts.push(decoded.timestamps[i]);
          vs.push(i);
        });
        return {
          labels,
          timestamps: Float64Array.from(ts),
          values: Float64Array.from(vs, (i) => decoded.values[i]),
        };
      }),
    );
  }
  return out;
}
