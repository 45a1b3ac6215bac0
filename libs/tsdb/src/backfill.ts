import { createReadStream } from 'node:fs';
import { ExpositionError, ExpositionParser } from '@pharos/exposition';
import { labelsHash, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import { rejectedSamples, type AppendResult } from './db.js';

export interface BackfillTarget {
  backfill(batch: SampleBatch): Promise<AppendResult>;
}

export interface BackfillResult {
  samples: number;
  series: number;
  rejected: number;
  firstError: string | undefined;
  minTime: number;
  maxTime: number;
}

/** Samples per storage append: big enough to amortise a LevelDB batch, small enough for memory. */
const BATCH_SAMPLES = 100_000;
/** The file is parsed in pieces of about this many characters, cut at line boundaries. */
const PIECE_CHARS = 32 * 1024 * 1024;

/**
 * Writes the samples of an OpenMetrics text file into storage, as `promtool tsdb
 * create-blocks-from openmetrics` does for Prometheus: every sample must carry a timestamp, the
 * file must end with `# EOF`. The file is read in pieces so its size is not bounded by memory;
 * each piece is parsed on its own with the metric family's TYPE line carried over.
 */
export async function importOpenMetrics(
  path: string,
  target: BackfillTarget,
  pieceChars = PIECE_CHARS,
): Promise<BackfillResult> {
  const res: BackfillResult = {
    samples: 0,
    series: 0,
    rejected: 0,
    firstError: undefined,
    minTime: Infinity,
    maxTime: -Infinity,
  };
  const seen = new Set<string>();
  let builder = new SampleBatchBuilder();
  let index = new Map<string, number>();
  const flush = async () => {
    if (builder.length === 0) return;
    const r = await target.backfill(builder.build());
    res.samples += r.appended;
    res.rejected += rejectedSamples(r);
    res.firstError ??= r.firstError;
    builder = new SampleBatchBuilder();
    index = new Map();
  };

  let carry = '';
  let typeLine = '';
  let lineBase = 0;
  let sawEOF = false;
  const parsePiece = async (text: string) => {
    if (sawEOF) {
      if (text.trim() !== '') throw new ExpositionError(lineBase + 1, 'unexpected data after "# EOF"');
      return;
    }
    // A piece cut from the middle gets an EOF of its own, the next one the TYPE line in force.
    const eof = text === '# EOF' || text.startsWith('# EOF\n') || /\n# EOF\n?$/.test(text);
    const prefix = typeLine === '' ? '' : `${typeLine}\n`;
    const body = eof ? text : `${text}# EOF\n`;
    const p = new ExpositionParser(prefix + body, 'openmetrics');
    const prefixLines = prefix === '' ? 0 : 1;
    try {
      for (let e = p.next(); e !== null; e = p.next()) {
        if (e !== 'series') continue;
        const t = p.timestamp();
        if (t === null) throw new ExpositionError(p.line, 'sample without a timestamp: backfill needs one');
        const key = p.seriesText();
        let ref = index.get(key);
        if (ref === undefined) {
          const labels = p.labels();
          const hash = labelsHash(labels);
          ref = builder.addSeries(labels, hash);
          index.set(key, ref);
          if (!seen.has(key)) {
            seen.add(key);
            res.series++;
          }
        }
        builder.add(ref, t, p.value());
        if (t < res.minTime) res.minTime = t;
        if (t > res.maxTime) res.maxTime = t;
        if (builder.length >= BATCH_SAMPLES) await flush();
      }
    } catch (e) {
      if (e instanceof ExpositionError) {
        const line = lineBase + e.line - prefixLines;
        throw new ExpositionError(line, e.reason);
      }
      throw e;
    }
    if (eof) sawEOF = true;
    const lastType = text.lastIndexOf('\n# TYPE ');
    if (lastType >= 0 || text.startsWith('# TYPE ')) {
      const from = lastType >= 0 ? lastType + 1 : 0;
      typeLine = text.slice(from, text.indexOf('\n', from));
    }
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineBase++;
  };

  const stream = createReadStream(path, {
    encoding: 'utf8',
    highWaterMark: Math.min(4 * 1024 * 1024, pieceChars),
  });
  for await (const chunk of stream as AsyncIterable<string>) {
    carry += chunk;
    if (carry.length < pieceChars) continue;
    const cut = carry.lastIndexOf('\n') + 1;
    if (cut === 0) continue;
    await parsePiece(carry.slice(0, cut));
    carry = carry.slice(cut);
  }
  await parsePiece(carry);
  if (!sawEOF)
    throw new ExpositionError(lineBase, 'expected "# EOF" at the end of an OpenMetrics exposition');
  await flush();
  return res;
}
