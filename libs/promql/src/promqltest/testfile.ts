// The PromQL test-file format of the Prometheus project (promql/promqltest), as its files use it:
// load / load_with_nhcb / clear / eval instant|range with expected results and expectations.
import { STALE_NAN, type FloatHistogram, type Label, type Labels } from '@pharos/model';
import { parseDuration } from '@pharos/config';
import { parseMetricSelector } from '../parser/parser.js';
import { expandHistogramToken } from './histogram-literal.js';

/**
 * One step of a series description: a value, a gap, or a native histogram (`hintSet`: its
 * counter reset hint was written out, so a comparison checks it).
 */
export type SeqValue =
  | { kind: 'float'; v: number }
  | { kind: 'omitted' }
  | { kind: 'histogram'; h: FloatHistogram; hintSet: boolean };

export interface SeriesLine {
  labels: Labels;
  values: SeqValue[];
  /**
   * From a `metric@st` line: each step's start time relative to the sample's own time (ms),
   * null where the step gives none.
   */
  startOffsets?: Array<number | null>;
}

export interface LoadCmd {
  kind: 'load';
  line: number;
  stepMs: number;
  withNHCB: boolean;
  series: SeriesLine[];
}

export interface ClearCmd {
  kind: 'clear';
  line: number;
}

export interface Expectation {
  type: 'ordered' | 'fail' | 'warn' | 'no_warn' | 'info' | 'no_info';
  message?: string;
  regex?: string;
}

export interface EvalCmd {
  kind: 'eval';
  line: number;
  expr: string;
  range: { start: number; end: number; step: number } | null;
  /** Instant evaluation time (ms). */
  at: number;
  expectations: Expectation[];
  /** `expect range vector from .. to .. step ..`: an instant query returning samples over time. */
  rangeVector: { start: number; end: number; step: number } | null;
  expectedString: string | null;
  scalar: SeqValue | null;
  series: SeriesLine[];
  /** A native histogram appears in an expected value. */
  usesHistograms: boolean;
}

export type TestCmd = LoadCmd | ClearCmd | EvalCmd;

export class TestFileError extends Error {
  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

/** Times in test files: Prometheus durations from 0, or plain seconds. */
export function parseTestTime(s: string): number {
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (s.startsWith('-')) return -parseDuration(s.slice(1));
  return parseDuration(s);
}

const NUMBER = /^[+-]?(?:Inf|inf|NaN|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;

function parseNumberText(s: string): number {
  const lower = s.replace(/^[+-]/, '').toLowerCase();
  const neg = s.startsWith('-');
  if (lower === 'inf') return neg ? -Infinity : Infinity;
  if (lower === 'nan') return NaN;
  if (lower.startsWith('0x')) return (neg ? -1 : 1) * parseInt(lower.slice(2), 16);
  return Number(s);
}

/** A bare number line (a scalar result). */
export function parseNumberLine(s: string): number | null {
  const m = NUMBER.exec(s);
  return m && m[0] === s ? parseNumberText(s) : null;
}

function splitValueTokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    let j = i;
    // Histogram literals contain spaces: skip over each {{...}}, also in `{{..}}+{{..}}x7`.
    while (j < text.length && !/\s/.test(text[j])) {
      if (text.startsWith('{{', j)) {
        const close = text.indexOf('}}', j);
        j = close < 0 ? text.length : close + 2;
      } else j++;
    }
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/**
 * Appends the values one token of a series description stands for. Into the caller's array, one
 * at a time: `0x1000000` is millions of values, more than a spread's arguments or a copy allow.
 */
function expandToken(tok: string, line: number, out: SeqValue[]): void {
  if (tok.startsWith('{{')) {
    let hists;
    try {
      hists = expandHistogramToken(tok);
    } catch (e) {
      throw new TestFileError(line, (e as Error).message);
    }
    for (const x of hists) out.push({ kind: 'histogram', ...x });
    return;
  }
  if (tok === '_') {
    out.push({ kind: 'omitted' });
    return;
  }
  if (tok === 'stale') {
    out.push({ kind: 'float', v: STALE_NAN });
    return;
  }
  const gap = /^_x(\d+)$/.exec(tok);
  if (gap) {
    for (let k = Number(gap[1]); k > 0; k--) out.push({ kind: 'omitted' });
    return;
  }
  const first = NUMBER.exec(tok);
  if (!first) throw new TestFileError(line, `invalid value ${JSON.stringify(tok)}`);
  const a = parseNumberText(first[0]);
  let rest = tok.slice(first[0].length);
  if (rest === '') {
    out.push({ kind: 'float', v: a });
    return;
  }
  let delta = 0;
  if (rest[0] === '+' || rest[0] === '-') {
    const d = NUMBER.exec(rest.slice(1));
    if (!d) throw new TestFileError(line, `invalid value ${JSON.stringify(tok)}`);
    delta = parseNumberText(d[0]) * (rest[0] === '-' ? -1 : 1);
    rest = rest.slice(1 + d[0].length);
  }
  const times = /^x(\d+)$/.exec(rest);
  if (!times) throw new TestFileError(line, `invalid value ${JSON.stringify(tok)}`);
  const n = Number(times[1]);
  // Each value from the start and the delta, as upstream does, so rounding does not accumulate.
  for (let k = 0; k <= n; k++) out.push({ kind: 'float', v: a + delta * k });
}

const ST_DURATION = String.raw`(?:\d+(?:ms|s|m|h|d|w|y))+|\d+`;
const ST_TOKEN = new RegExp(`^([+-]?)(${ST_DURATION})(?:([+-])(${ST_DURATION}))?(?:x(\\d+))?$`);

function signedDuration(sign: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  return sign === '-' ? 0 - ms : ms;
}

/**
 * Expands one token of a `@st` line: offsets of the start time from each sample's time, with the
 * same `a+bxN`, `axN`, `_` and `_xN` forms as values, in durations (`-30s-1mx2`, `+1m`, `-0ms`).
 */
export function expandStartToken(tok: string, line: number): Array<number | null> {
  if (tok === '_') return [null];
  const gap = /^_x(\d+)$/.exec(tok);
  if (gap) return Array.from({ length: Number(gap[1]) }, () => null);
  const m = ST_TOKEN.exec(tok);
  if (!m) throw new TestFileError(line, `invalid start timestamp ${JSON.stringify(tok)}`);
  const a = signedDuration(m[1], m[2]);
  const delta = m[4] !== undefined ? signedDuration(m[3], m[4]) : 0;
  const n = m[5] !== undefined ? Number(m[5]) : 0;
  return Array.from({ length: n + 1 }, (_, k) => a + delta * k);
}

/** Splits `metric{labels} values...` into the labels and the value text. */
export function parseSeriesLine(text: string, line: number): SeriesLine {
  let end = 0;
  let inQuote = false;
  let depth = 0;
  for (; end < text.length; end++) {
    const c = text[end];
    if (inQuote) {
      if (c === '\\') end++;
      else if (c === '"') inQuote = false;
      continue;
    }
    if (c === '"') inQuote = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        end++;
        break;
      }
    } else if (depth === 0 && /\s/.test(c)) break;
  }
  const selector = text.slice(0, end).trim();
  const labels = parseLabels(selector, line);
  const values: SeqValue[] = [];
  for (const tok of splitValueTokens(text.slice(end))) expandToken(tok, line, values);
  return { labels, values };
}

function labelsKey(ls: Labels): string {
  return ls.map((l) => `${l.name}\u0000${l.value}`).join('\u0001');
}

function parseLabels(selector: string, line: number): Labels {
  if (selector === '{}' || selector === '') return [];
  let matchers;
  try {
    matchers = parseMetricSelector(selector);
  } catch (e) {
    throw new TestFileError(line, `invalid series ${JSON.stringify(selector)}: ${(e as Error).message}`);
  }
  const labels: Label[] = matchers.map((m) => ({ name: m.name, value: m.value }));
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function parseExpect(text: string, line: number): Expectation {
  const m = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/.exec(text);
  if (!m) throw new TestFileError(line, `invalid expect line ${JSON.stringify(text)}`);
  const e: Expectation = { type: m[1] as Expectation['type'] };
  if (m[2] === 'msg') e.message = m[3].trim();
  if (m[2] === 'regex') e.regex = m[3].trim();
  return e;
}

function unquoteGo(s: string, line: number): string {
  if (s.startsWith('`') && s.endsWith('`') && s.length >= 2) return s.slice(1, -1);
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) {
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new TestFileError(line, `invalid string ${s}`);
    }
  }
  throw new TestFileError(line, `expected a quoted string, got ${s}`);
}

/** Parses a whole test file; lines are trimmed and comments blank them, as upstream. */
export function parseTestFile(input: string): TestCmd[] {
  const lines = input.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
  const cmds: TestCmd[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l === '') continue;
    const lineNo = i + 1;
    const word = l.split(/[\t ]+/, 1)[0].toLowerCase();
    if (word === 'clear') {
      cmds.push({ kind: 'clear', line: lineNo });
      continue;
    }
    if (word.startsWith('load')) {
      const m = /^load(?:_(with_nhcb))?\s+(.+?)$/.exec(l);
      if (!m) throw new TestFileError(lineNo, 'invalid load command');
      const cmd: LoadCmd = {
        kind: 'load',
        line: lineNo,
        stepMs: parseDuration(m[2]),
        withNHCB: m[1] === 'with_nhcb',
        series: [],
      };
      const starts = new Map<string, Array<number | null>>();
      while (i + 1 < lines.length && lines[i + 1] !== '') {
        i++;
        const st = /^(\S*)@st\s+(.*)$/.exec(lines[i]);
        if (st) {
          const offsets = splitValueTokens(st[2]).flatMap((t) => expandStartToken(t, i + 1));
          starts.set(labelsKey(parseLabels(st[1], i + 1)), offsets);
          continue;
        }
        cmd.series.push(parseSeriesLine(lines[i], i + 1));
      }
      for (const s of cmd.series) {
        const offsets = starts.get(labelsKey(s.labels));
        if (offsets) s.startOffsets = offsets;
      }
      cmds.push(cmd);
      continue;
    }
    if (word.startsWith('eval')) {
      cmds.push(parseEvalBlock(lines, i));
      while (i + 1 < lines.length && lines[i + 1] !== '') i++;
      continue;
    }
    throw new TestFileError(lineNo, `invalid command ${JSON.stringify(l)}`);
  }
  return cmds;
}

function parseEvalBlock(lines: string[], i: number): EvalCmd {
  const l = lines[i];
  const lineNo = i + 1;
  const inst = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/.exec(l);
  const rng = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/.exec(l);
  const cmd: EvalCmd = {
    kind: 'eval',
    line: lineNo,
    expr: '',
    range: null,
    at: 0,
    expectations: [],
    rangeVector: null,
    expectedString: null,
    scalar: null,
    series: [],
    usesHistograms: false,
  };
  let modifier: string | undefined;
  if (inst) {
    modifier = inst[1];
    cmd.at = inst[2] ? parseTestTime(inst[2]) : 0;
    cmd.expr = inst[3];
  } else if (rng) {
    modifier = rng[1];
    cmd.range = { start: parseTestTime(rng[2]), end: parseTestTime(rng[3]), step: parseTestTime(rng[4]) };
    cmd.expr = rng[5];
  } else throw new TestFileError(lineNo, `invalid evaluation command ${JSON.stringify(l)}`);
  if (modifier) cmd.expectations.push({ type: modifier as Expectation['type'] });
  for (let j = i + 1; j < lines.length && lines[j] !== ''; j++) {
    const d = lines[j];
    if (d.startsWith('expect range vector')) {
      const m = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/.exec(d);
      if (!m) throw new TestFileError(j + 1, 'invalid expect range vector');
      cmd.rangeVector = { start: parseTestTime(m[1]), end: parseTestTime(m[2]), step: parseTestTime(m[3]) };
      continue;
    }
    if (d.startsWith('expect string')) {
      cmd.expectedString = unquoteGo(d.slice('expect string'.length).trim(), j + 1);
      continue;
    }
    if (d.split(' ')[0] === 'expect') {
      cmd.expectations.push(parseExpect(d, j + 1));
      continue;
    }
    if (d.startsWith('expected_fail_message ')) {
      cmd.expectations.push({ type: 'fail', message: d.slice('expected_fail_message '.length) });
      continue;
    }
    if (d.startsWith('expected_fail_regexp ')) {
      cmd.expectations.push({ type: 'fail', regex: d.slice('expected_fail_regexp '.length) });
      continue;
    }
    const n = parseNumberLine(d);
    if (n !== null) {
      cmd.scalar = { kind: 'float', v: n };
      continue;
    }
    const s = parseSeriesLine(d, j + 1);
    if (s.values.some((v) => v.kind === 'histogram')) cmd.usesHistograms = true;
    cmd.series.push(s);
  }
  return cmd;
}
