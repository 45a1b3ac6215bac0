import { formatLabels, isStaleNaN, type FloatHistogram, type Labels } from '@pharos/model';
import { MemoryQueryable } from '@pharos/tsdb';
import { Engine } from '../engine/engine.js';
import type { Annotations, QueryResult } from '../engine/types.js';
import {
  parseTestFile,
  type EvalCmd,
  type Expectation,
  type LoadCmd,
  type SeqValue,
  type SeriesLine,
} from './testfile.js';
import { classicToNHCB } from './nhcb.js';
import { histogramsMatch } from './histogram-compare.js';
import { almostEqual } from './almost-equal.js';

export { almostEqual };

export type Outcome =
  { status: 'passed' } | { status: 'failed'; reason: string } | { status: 'skipped'; reason: string };

export interface EvalOutcome {
  line: number;
  expr: string;
  outcome: Outcome;
}

export interface FileReport {
  passed: number;
  failed: number;
  skipped: number;
  evals: EvalOutcome[];
}

function fmt(v: number): string {
  if (isStaleNaN(v)) return 'stale';
  return String(v);
}

class FileRun {
  private readonly db = new MemoryQueryable();

  constructor(private readonly engine: Engine) {}

  load(cmd: LoadCmd): void {
    for (const s of cmd.series) {
      const ts: number[] = [];
      const sts: number[] = [];
      const hs: Array<FloatHistogram | undefined> = [];
      // Staleness markers must keep their NaN payload: values stay in a Float64Array.
      const vals = new Float64Array(s.values.length);
      s.values.forEach((v, i) => {
        if (v.kind === 'omitted') return;
        const t = i * cmd.stepMs;
        const offset = s.startOffsets?.[i];
        sts.push(offset === undefined || offset === null ? 0 : t + offset);
        hs.push(v.kind === 'histogram' ? v.h : undefined);
        vals[ts.length] = v.kind === 'float' ? v.v : 0;
        ts.push(t);
      });
      const anyHistogram = hs.some((h) => h !== undefined);
      if (ts.length > 0)
        this.db.add(
          s.labels,
          ts,
          vals.subarray(0, ts.length),
          s.startOffsets ? sts : undefined,
          anyHistogram ? hs : undefined,
        );
    }
    if (cmd.withNHCB) {
      for (const c of classicToNHCB(cmd.series, cmd.stepMs))
        this.db.add(c.labels, c.timestamps, new Float64Array(c.timestamps.length), undefined, c.histograms);
    }
  }

  clear(): void {
    this.db.clear();
  }

  async eval(cmd: EvalCmd): Promise<Outcome> {
    const fail = cmd.expectations.find((e) => e.type === 'fail');
    let result: QueryResult;
    try {
      result = cmd.range
        ? await this.engine.rangeQuery(this.db, cmd.expr, cmd.range.start, cmd.range.end, cmd.range.step)
        : await this.engine.instantQuery(this.db, cmd.expr, cmd.at);
    } catch (e) {
      const msg = (e as Error).message;
      if (!fail) return { status: 'failed', reason: `unexpected error: ${msg}` };
      if (fail.message !== undefined && fail.message !== msg)
        return {
          status: 'failed',
          reason: `error ${JSON.stringify(msg)}, want ${JSON.stringify(fail.message)}`,
        };
      if (fail.regex !== undefined && !new RegExp(fail.regex).test(msg))
        return { status: 'failed', reason: `error ${JSON.stringify(msg)} does not match /${fail.regex}/` };
      return { status: 'passed' };
    }
    if (fail) return { status: 'failed', reason: 'expected an error, the query succeeded' };
    const problem = this.compare(cmd, result);
    if (problem) return { status: 'failed', reason: problem };
    const annotations = this.checkAnnotations(cmd, result.annotations);
    return annotations ? { status: 'failed', reason: annotations } : { status: 'passed' };
  }

  /** Annotations as upstream checks them: each expected one present, none unexpected. */
  private checkAnnotations(cmd: EvalCmd, got: Annotations): string | null {
    for (const kind of ['warn', 'info'] as const) {
      const actual = kind === 'warn' ? got.warnings : got.infos;
      const expected = cmd.expectations.filter((e) => e.type === kind);
      const forbidden = cmd.expectations.some((e) => e.type === `no_${kind}`);
      const matches = (e: Expectation, a: string) =>
        e.message !== undefined
          ? e.message === a
          : e.regex !== undefined
            ? new RegExp(e.regex).test(a)
            : true;
      if (expected.length > 0 && actual.length === 0) return `expected a ${kind} annotation, got none`;
      for (const e of expected) {
        if (!actual.some((a) => matches(e, a)))
          return `expected ${kind} ${JSON.stringify(e.message ?? e.regex)}, got ${JSON.stringify(actual)}`;
      }
      if (expected.some((e) => e.message !== undefined || e.regex !== undefined)) {
        const extra = actual.find((a) => !expected.some((e) => matches(e, a)));
        if (extra) return `unexpected ${kind} annotation ${JSON.stringify(extra)}`;
      }
      if (forbidden && actual.length > 0) return `unexpected ${kind} annotations ${JSON.stringify(actual)}`;
    }
    return null;
  }

  private compare(cmd: EvalCmd, r: QueryResult): string | null {
    if (cmd.expectedString !== null) {
      if (r.resultType !== 'string') return `expected string result, got ${r.resultType}`;
      return r.v === cmd.expectedString
        ? null
        : `string ${JSON.stringify(r.v)}, want ${JSON.stringify(cmd.expectedString)}`;
    }
    if (cmd.scalar !== null) {
      if (r.resultType !== 'scalar') return `expected scalar result, got ${r.resultType}`;
      const want = (cmd.scalar as { v: number }).v;
      return almostEqual(r.v, want) ? null : `scalar ${fmt(r.v)}, want ${fmt(want)}`;
    }
    const ordered = cmd.expectations.some((e) => e.type === 'ordered');
    if (r.resultType === 'matrix') {
      if (ordered) return 'expected ordered result, but query returned a matrix';
      const frame = cmd.range ?? cmd.rangeVector;
      if (!frame) return 'instant query returned a range vector without "expect range vector"';
      return this.compareMatrix(cmd.series, r.result, frame, cmd.range === null);
    }
    if (r.resultType === 'scalar') {
      if (cmd.series.length === 1 && cmd.series[0].labels.length === 0) {
        const v = cmd.series[0].values[0] as { kind: string; v: number };
        return almostEqual(r.v, v.v) ? null : `scalar ${fmt(r.v)}, want ${fmt(v.v)}`;
      }
      return `unexpected scalar result ${fmt(r.v)}`;
    }
    if (r.resultType === 'string') return `unexpected string result ${JSON.stringify(r.v)}`;
    if (cmd.rangeVector) return 'expected a range vector, got an instant vector';
    // Instant vector.
    const want = new Map<string, { pos: number; v: SeqValue }>();
    cmd.series.forEach((s, pos) => want.set(formatLabels(s.labels), { pos, v: s.values[0] }));
    if (r.result.length !== want.size) {
      return `expected ${want.size} samples, got ${r.result.length}: ${r.result.map((s) => `${formatLabels(s.labels)} ${fmt(s.v)}`).join(', ')}`;
    }
    for (let i = 0; i < r.result.length; i++) {
      const s = r.result[i];
      const key = formatLabels(s.labels);
      const e = want.get(key);
      if (!e) return `unexpected series ${key} ${s.h ? s.h.toString() : fmt(s.v)}`;
      if (ordered && e.pos !== i) return `series ${key} at position ${i}, want ${e.pos}`;
      if (e.v.kind === 'histogram') {
        if (!s.h) return `series ${key}: float ${fmt(s.v)}, want histogram ${e.v.h.toString()}`;
        if (!histogramsMatch(e.v.h, s.h, e.v.hintSet))
          return `series ${key}: histogram ${s.h.toString()}, want ${e.v.h.toString()}`;
        continue;
      }
      if (s.h) return `series ${key}: histogram ${s.h.toString()}, want a float`;
      if (e.v.kind !== 'float') return `series ${key}: expected no value`;
      if (!almostEqual(s.v, e.v.v)) return `series ${key}: value ${fmt(s.v)}, want ${fmt(e.v.v)}`;
    }
    return null;
  }

  private compareMatrix(
    expected: SeriesLine[],
    got: ReadonlyArray<{
      labels: Labels;
      timestamps: Float64Array;
      values: Float64Array;
      histograms?: ReadonlyArray<{ t: number; h: FloatHistogram }>;
    }>,
    frame: { start: number; end: number; step: number },
    instant: boolean,
  ): string | null {
    const want = new Map<string, SeriesLine>();
    for (const s of expected) want.set(formatLabels(s.labels), s);
    if (got.length !== want.size) {
      return `expected ${want.size} series, got ${got.length}: ${got.map((s) => formatLabels(s.labels)).join(', ')}`;
    }
    for (const s of got) {
      const key = formatLabels(s.labels);
      const e = want.get(key);
      if (!e) return `unexpected series ${key}`;
      const points: Array<[number, number]> = [];
      const hpoints: Array<{ t: number; h: FloatHistogram; hintSet: boolean }> = [];
      e.values.forEach((v, i) => {
        const t = frame.start + i * frame.step;
        if (v.kind === 'float') points.push([t, v.v]);
        else if (v.kind === 'histogram') hpoints.push({ t, h: v.h, hintSet: v.hintSet });
      });
      const gotH = s.histograms ?? [];
      if (gotH.length !== hpoints.length) {
        const g = gotH.map((p) => `${p.h.toString()}@${p.t / 1000}`).join(' ');
        return `series ${key}: ${gotH.length} histogram points (${g}), want ${hpoints.length}`;
      }
      for (let i = 0; i < hpoints.length; i++) {
        if (gotH[i].t !== hpoints[i].t)
          return `series ${key}: histogram ${i} at ${gotH[i].t / 1000}s, want ${hpoints[i].t / 1000}s`;
        if (!histogramsMatch(hpoints[i].h, gotH[i].h, hpoints[i].hintSet))
          return `series ${key}: histogram ${gotH[i].h.toString()} at ${gotH[i].t / 1000}s, want ${hpoints[i].h.toString()}`;
      }
      if (points.length !== s.timestamps.length) {
        const gotPts = Array.from(s.timestamps, (t, i) => `${fmt(s.values[i])}@${t / 1000}`).join(' ');
        const wantPts = points.map(([t, v]) => `${fmt(v)}@${t / 1000}`).join(' ');
        return `series ${key}: ${s.timestamps.length} points (${gotPts}), want ${points.length} (${wantPts})`;
      }
      for (let i = 0; i < points.length; i++) {
        // An instant query's range vector keeps the samples' own times, which the frame lists.
        if (s.timestamps[i] !== points[i][0] && !instant)
          return `series ${key}: point ${i} at ${s.timestamps[i] / 1000}s, want ${points[i][0] / 1000}s`;
        if (s.timestamps[i] !== points[i][0])
          return `series ${key}: sample ${i} at ${s.timestamps[i] / 1000}s, want ${points[i][0] / 1000}s`;
        if (!almostEqual(s.values[i], points[i][1]))
          return `series ${key}: value ${fmt(s.values[i])} at ${s.timestamps[i] / 1000}s, want ${fmt(points[i][1])}`;
      }
    }
    return null;
  }
}

/** Runs one test file, evaluation by evaluation, with the upstream runner's engine settings. */
export async function runTestFile(input: string): Promise<FileReport> {
  // The upstream runner's test engine: delayed name removal on, 10,000 samples per query.
  const engine = new Engine({
    lookbackDelta: 300_000,
    maxSamples: 10_000,
    timeout: 100_000,
    delayedNameRemoval: true,
  });
  const run = new FileRun(engine);
  const report: FileReport = { passed: 0, failed: 0, skipped: 0, evals: [] };
  for (const cmd of parseTestFile(input)) {
    if (cmd.kind === 'load') run.load(cmd);
    else if (cmd.kind === 'clear') run.clear();
    else {
      let outcome: Outcome;
      try {
        outcome = await run.eval(cmd);
      } catch (e) {
        outcome = { status: 'failed', reason: `runner error: ${(e as Error).message}` };
      }
      report[outcome.status]++;
      report.evals.push({ line: cmd.line, expr: cmd.expr, outcome });
    }
  }
  return report;
}
