import { METRIC_NAME, labelsFrom, type Label, type Labels } from '@pharos/model';
import { ExpositionError } from './errors.js';
import { formatOpenMetricsFloat, parseSampleValue, parseSimpleDecimal } from './float.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'untyped'
  | 'unknown';

const PROM_TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const OM_TYPES = new Set<MetricType>([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
  'unknown',
]);

export type Entry = 'series' | 'type' | 'help' | 'unit' | 'comment';

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  readonly timestamp: number | null;
}

/**
 * A pull parser over a whole exposition. `next()` moves to the next entry; the accessors describe
 * the current one. Series are handed out as their raw text first (`seriesText`), so a scrape cache
 * can skip `labels()` for series it has seen before.
 */
export class ExpositionParser {
  private pos = 0;
  private lineNo = 0;
  private seenEOF = false;

  private family = '';
  private familyType: MetricType = 'unknown';

  private seriesStart = 0;
  private seriesEnd = 0;
  /**
   * The metric name: quoted (UTF-8 syntax), or [nameStart, nameEnd) of the text, sliced on
   * demand; nameStart -1 when the series matched a prediction and the name is not found yet.
   */
  private quotedMetricName = '';
  private nameStart = 0;
  private nameEnd = 0;
  private curValue = 0;
  private curTimestamp: number | null = null;
  private curExemplar: Exemplar | null = null;

  private metaName = '';
  private matched = false;
  private metaText = '';

  constructor(
    private readonly text: string,
    readonly format: ExpositionFormat = 'prometheus',
  ) {}

  /** The 1-based line number of the current entry. */
  get line(): number {
    return this.lineNo;
  }

  /**
   * The next entry. `predicted`: the series text a caller expects on the next sample line (what
   * the same target exposed there last time); when the line starts with it, its label set is
   * not scanned again, and `matchedPrediction` says so.
   */
  next(predicted?: string): Entry | null {
    const t = this.text;
    while (this.pos < t.length || (this.format === 'openmetrics' && !this.seenEOF)) {
      if (this.pos >= t.length) {
        this.lineNo = Math.max(this.lineNo, 1);
        throw this.error('expected "# EOF" at the end of an OpenMetrics exposition');
      }
      let end = t.indexOf('\n', this.pos);
      if (end < 0) end = t.length;
      const start = this.pos;
      this.pos = end + 1;
      this.lineNo++;
      if (this.seenEOF) throw this.error('unexpected data after "# EOF"');
      if (this.format === 'openmetrics' && end === t.length && end > start && t.charCodeAt(end - 1) !== 10) {
        // The last line of an OpenMetrics exposition must itself end with a newline, except # EOF.
        if (t.slice(start, end) !== '# EOF') throw this.error('data does not end with a newline');
      }
      if (isBlank(t, start, end)) {
        if (this.format === 'openmetrics') throw this.error('unexpected empty line');
        continue;
      }
      if (t.charCodeAt(start) === 35) {
        const e = this.metadataLine(t.slice(start, end));
        if (e === null) continue;
        return e;
      }
      // Sample lines are read in place: no string per line.
      this.sampleLine(start, end, predicted);
      return 'series';
    }
    return null;
  }

  /**
   * The series part of the current sample line exactly as written: a cache key. A slice of the
   * body: to keep it for longer than the scrape, take a `flatCopy` of it.
   */
  seriesText(): string {
    return this.text.slice(this.seriesStart, this.seriesEnd);
  }

  /** The current line's series was the one predicted to `next`. */
  get matchedPrediction(): boolean {
    return this.matched;
  }

  /** Whether the current series text is exactly `text`, compared in place without slicing. */
  seriesIs(text: string): boolean {
    return (
      this.seriesEnd - this.seriesStart === text.length &&
      this.text.slice(this.seriesStart, this.seriesEnd) === text
    );
  }

  /** The metric name of the current sample. */
  metricName(): string {
    if (this.nameStart < 0) this.seriesPart(this.seriesStart, this.seriesEnd);
    return this.nameEnd > this.nameStart
      ? this.text.slice(this.nameStart, this.nameEnd)
      : this.quotedMetricName;
  }

  value(): number {
    return this.curValue;
  }

  /** Milliseconds, or null when the line has none. */
  timestamp(): number | null {
    return this.curTimestamp;
  }

  exemplar(): Exemplar | null {
    return this.curExemplar;
  }

  /** For type/help/unit entries: the metric family they describe. */
  metadataName(): string {
    return this.metaName;
  }

  /** For type entries the type, for help the unescaped text, for unit the unit. */
  metadataText(): string {
    return this.metaText;
  }

  /** The family type in force for the current series (from the last TYPE line that names it). */
  currentType(): MetricType {
    return this.familyOf(this.metricName()) ? this.familyType : 'unknown';
  }

  /** Labels of the current sample, sorted, __name__ included, le/quantile normalised. */
  labels(): Labels {
    const pairs: Label[] = [];
    let name = '';
    const s = this.text;
    let i = this.seriesStart;
    const end = this.seriesEnd;
    if (s.charCodeAt(i) !== 123) {
      const j = scanName(s, i, end);
      name = s.slice(i, j);
      i = j;
    }
    if (i < end && s.charCodeAt(i) === 123) {
      this.quotedName = '';
      i = this.parseLabelBody(s, i + 1, end, pairs, name === '');
      name = name || this.quotedName;
    }
    const normalise = this.normalisedLabel(name);
    const out: Label[] = [{ name: METRIC_NAME, value: intern(name) }];
    for (const p of pairs) {
      if (p.name === METRIC_NAME) throw this.error(`label name "${METRIC_NAME}" is reserved`);
      let value = p.value;
      if (p.name === normalise) {
        const v = parseSampleValue(p.value);
        if (v !== undefined) value = formatOpenMetricsFloat(v);
      }
      out.push({ name: intern(p.name), value: intern(value) });
    }
    try {
      return labelsFrom(out);
    } catch (e) {
      throw this.error((e as Error).message);
    }
  }

  private quotedName = '';

  private normalisedLabel(name: string): string {
    const fam = this.familyOf(name);
    if (!fam) return '';
    if (
      (this.familyType === 'histogram' || this.familyType === 'gaugehistogram') &&
      name.endsWith('_bucket')
    ) {
      return 'le';
    }
    if (this.familyType === 'summary' && name === this.family) return 'quantile';
    return '';
  }

  private familyOf(name: string): boolean {
    if (this.family === '') return false;
    if (name === this.family) return true;
    if (!name.startsWith(this.family)) return false;
    const suffix = name.slice(this.family.length);
    return (
      suffix === '_total' ||
      suffix === '_bucket' ||
      suffix === '_sum' ||
      suffix === '_count' ||
      suffix === '_created' ||
      suffix === '_info' ||
      suffix === '_gcount' ||
      suffix === '_gsum'
    );
  }

  private error(reason: string): ExpositionError {
    return new ExpositionError(this.lineNo, reason);
  }

  private metadataLine(line: string): Entry | null {
    const om = this.format === 'openmetrics';
    if (om && line === '# EOF') {
      this.seenEOF = true;
      return null;
    }
    // "#" then a blank, then the keyword; anything else is a comment in the Prometheus format.
    let i = 1;
    if (i >= line.length || !isSpace(line.charCodeAt(i))) {
      if (om) throw this.error(`invalid comment line ${JSON.stringify(line)}`);
      return 'comment';
    }
    while (i < line.length && isSpace(line.charCodeAt(i))) i++;
    let j = i;
    while (j < line.length && !isSpace(line.charCodeAt(j))) j++;
    const keyword = line.slice(i, j);
    const kind: Entry | null =
      keyword === 'HELP' ? 'help' : keyword === 'TYPE' ? 'type' : keyword === 'UNIT' && om ? 'unit' : null;
    if (kind === null) {
      if (om) throw this.error(`invalid metadata line ${JSON.stringify(line)}`);
      return 'comment';
    }
    i = j;
    while (i < line.length && isSpace(line.charCodeAt(i))) i++;
    let name: string;
    if (line.charCodeAt(i) === 34) {
      const [q, next] = this.parseQuoted(line, i, line.length);
      name = q;
      j = next;
    } else {
      j = scanName(line, i, line.length);
      name = line.slice(i, j);
    }
    if (name === '') {
      if (om) throw this.error(`${keyword} line without a metric name`);
      return 'comment';
    }
    if (j < line.length && !isSpace(line.charCodeAt(j))) {
      throw this.error(`invalid metric name in ${keyword} line: ${JSON.stringify(line.slice(i))}`);
    }
    let rest = j < line.length ? line.slice(j + 1) : '';
    if (!om) rest = rest.replace(/^[ \t]+/, '');
    this.metaName = name;
    if (kind === 'type') {
      const t = rest.trim() as MetricType;
      if (!(om ? OM_TYPES : PROM_TYPES).has(t))
        throw this.error(`invalid metric type ${JSON.stringify(rest)}`);
      this.metaText = t;
      this.family = name;
      this.familyType = t === 'untyped' ? 'unknown' : t;
    } else if (kind === 'help') {
      this.metaText = unescapeHelp(rest, om);
    } else {
      this.metaText = rest;
    }
    return kind;
  }

  private sampleLine(lineStart: number, end: number, predicted: string | undefined): void {
    const s = this.text;
    this.matched = false;
    this.seriesStart = lineStart;
    let i: number;
    const n = predicted === undefined ? 0 : predicted.length;
    // slice and ===, not startsWith: four times faster here (startsWith with a position is a
    // runtime call), and this runs on every line of every scrape.
    if (
      n > 0 &&
      lineStart + n < end &&
      isSpace(s.charCodeAt(lineStart + n)) &&
      s.slice(lineStart, lineStart + n) === predicted
    ) {
      // The whole series text of an earlier, fully parsed line: valid then, so valid now. Its
      // name is found only if asked for.
      i = lineStart + n;
      this.matched = true;
      this.nameStart = this.nameEnd = -1;
    } else i = this.seriesPart(lineStart, end);
    this.seriesEnd = i;
    if (i >= end || !isSpace(s.charCodeAt(i))) {
      throw this.error(`expected a value after the series in ${JSON.stringify(s.slice(lineStart, end))}`);
    }
    const om = this.format === 'openmetrics';
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    let j = i;
    while (j < end && !isSpace(s.charCodeAt(j))) j++;
    let v: number | undefined = parseSimpleDecimal(s, i, j);
    if (v !== v) v = parseSampleValue(s.slice(i, j));
    if (v === undefined) throw this.error(`invalid value ${JSON.stringify(s.slice(i, j))}`);
    this.curValue = v;
    this.curTimestamp = null;
    this.curExemplar = null;
    i = j;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (i < end && s.charCodeAt(i) !== 35) {
      j = i;
      while (j < end && !isSpace(s.charCodeAt(j))) j++;
      this.curTimestamp = om ? parseOMTimestamp(s.slice(i, j)) : parseIntTimestamp(s.slice(i, j));
      if (this.curTimestamp === null) throw this.error(`invalid timestamp ${JSON.stringify(s.slice(i, j))}`);
      i = j;
      while (i < end && isSpace(s.charCodeAt(i))) i++;
    }
    if (i < end) {
      if (om && s.startsWith('# ', i)) {
        this.curExemplar = this.parseExemplar(s, i + 2, end);
        return;
      }
      if (!om && s.charCodeAt(i) === 35) return; // trailing comment, tolerated by the text format
      throw this.error(`unexpected text after the sample: ${JSON.stringify(s.slice(i, end))}`);
    }
  }

  /** Parses the series part of a sample line from `lineStart`; returns the index after it. */
  private seriesPart(lineStart: number, end: number): number {
    const s = this.text;
    let i = lineStart;
    this.quotedName = '';
    if (s.charCodeAt(i) === 123) {
      // {"utf8.name", ...}: the name is the first, unpaired, quoted string.
      const scratch: Label[] = [];
      i = this.parseLabelBody(s, i + 1, end, scratch, true);
      this.quotedMetricName = this.quotedName;
      this.nameStart = this.nameEnd = 0;
      if (this.quotedMetricName === '') throw this.error('metric name missing');
      return i;
    }
    const j = scanName(s, i, end);
    if (j === i) throw this.error(`invalid metric name at ${JSON.stringify(s.slice(lineStart, end))}`);
    this.nameStart = i;
    this.nameEnd = j;
    i = j;
    if (i < end && s.charCodeAt(i) === 123) {
      const k = this.skipLabelBody(s, i + 1, end);
      i = k >= 0 ? k : this.parseLabelBody(s, i + 1, end, [], false);
    }
    return i;
  }

  private parseExemplar(s: string, i: number, end: number): Exemplar {
    if (s.charCodeAt(i) !== 123) throw this.error('exemplar must start with "{"');
    const pairs: Label[] = [];
    i = this.parseLabelBody(s, i + 1, end, pairs, false);
    if (!isSpace(s.charCodeAt(i))) throw this.error('expected a value after exemplar labels');
    const rest = s
      .slice(i + 1, end)
      .trim()
      .split(/[ \t]+/);
    const value = parseSampleValue(rest[0] ?? '');
    if (value === undefined) throw this.error(`invalid exemplar value ${JSON.stringify(rest[0] ?? '')}`);
    let timestamp: number | null = null;
    if (rest.length > 1) {
      timestamp = parseOMTimestamp(rest[1]);
      if (timestamp === null) throw this.error(`invalid exemplar timestamp ${JSON.stringify(rest[1])}`);
    }
    let runes = 0;
    for (const p of pairs) runes += [...p.name].length + [...p.value].length;
    if (runes > 128) throw this.error('exemplar labels exceed 128 UTF-8 characters');
    return { labels: labelsFrom(pairs), value, timestamp };
  }

  /**
   * Parses `name="value", ...}` starting after "{", filling `out`; returns the index after "}".
   * With `allowBareName`, one unpaired quoted string is taken as the metric name (UTF-8 syntax).
   */
  private parseLabelBody(s: string, i: number, end: number, out: Label[], allowBareName: boolean): number {
    const om = this.format === 'openmetrics';
    for (;;) {
      if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      if (i >= end) throw this.error('unterminated label set');
      if (s.charCodeAt(i) === 125) return i + 1;
      let name: string;
      if (s.charCodeAt(i) === 34) {
        const [q, next] = this.parseQuoted(s, i, end);
        i = next;
        if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
        if (s.charCodeAt(i) !== 61) {
          if (!allowBareName || this.quotedName !== '')
            throw this.error(`expected "=" after label name ${JSON.stringify(q)}`);
          this.quotedName = q;
          i = this.afterLabel(s, i, end);
          if (s.charCodeAt(i - 1) === 125) return i;
          continue;
        }
        name = q;
      } else {
        const j = scanLabelName(s, i, end);
        if (j === i)
          throw this.error(`invalid label name at ${JSON.stringify(s.slice(i, Math.min(end, i + 20)))}`);
        name = s.slice(i, j);
        i = j;
        if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      }
      if (s.charCodeAt(i) !== 61) throw this.error(`expected "=" after label name "${name}"`);
      i++;
      if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== 34) throw this.error(`expected a quoted value for label "${name}"`);
      const [value, next] = this.parseQuoted(s, i, end);
      out.push({ name, value });
      i = this.afterLabel(s, next, end);
      if (s.charCodeAt(i - 1) === 125) return i;
    }
  }

  /**
   * Finds the end of a label body of plain names and escape-free values without building any
   * strings, the common case on every line of every scrape (labels are built only for series the
   * scrape cache has not seen). -1 means "not plain": parseLabelBody then parses it, or says why not.
   */
  private skipLabelBody(s: string, i: number, end: number): number {
    const om = this.format === 'openmetrics';
    for (;;) {
      if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      if (i >= end) return -1;
      if (s.charCodeAt(i) === 125) return i + 1;
      const j = scanLabelName(s, i, end);
      if (j === i) return -1;
      i = j;
      if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== 61) return -1;
      i++;
      if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== 34) return -1;
      for (i++; i < end; i++) {
        const c = s.charCodeAt(i);
        if (c === 34) break;
        if (c === 92) return -1;
      }
      if (i >= end) return -1;
      i++;
      if (!om) while (i < end && isSpace(s.charCodeAt(i))) i++;
      const c = s.charCodeAt(i);
      if (c === 125) return i + 1;
      if (c !== 44) return -1;
      i++;
    }
  }

  /** After a label: "," (maybe followed by "}") or "}". Returns the index after what it consumed. */
  private afterLabel(s: string, i: number, end: number): number {
    if (this.format !== 'openmetrics') while (i < end && isSpace(s.charCodeAt(i))) i++;
    const c = s.charCodeAt(i);
    if (c === 125) return i + 1;
    if (c === 44) {
      let k = i + 1;
      if (this.format !== 'openmetrics') while (k < end && isSpace(s.charCodeAt(k))) k++;
      if (s.charCodeAt(k) === 125) return k + 1;
      return i + 1;
    }
    throw this.error(`expected "," or "}" in label set, got ${JSON.stringify(s.slice(i, i + 10))}`);
  }

  /** Parses a double-quoted string at s[i] with \\, \" and \n escapes. */
  private parseQuoted(s: string, i: number, end: number): [string, number] {
    let out = '';
    let from = i + 1;
    for (let k = i + 1; k < end; k++) {
      const c = s.charCodeAt(k);
      if (c === 34) return [out + s.slice(from, k), k + 1];
      if (c === 92) {
        out += s.slice(from, k);
        const d = s.charCodeAt(k + 1);
        if (d === 92) out += '\\';
        else if (d === 34) out += '"';
        else if (d === 110) out += '\n';
        else if (this.format === 'openmetrics') throw this.error(`invalid escape "\\${s[k + 1] ?? ''}"`);
        else out += '\\' + (s[k + 1] ?? '');
        k++;
        from = k + 1;
      }
    }
    throw this.error('unterminated quoted string');
  }
}

/**
 * One string per distinct label name or short value across all series and scrapes: a target's
 * series repeat them (job, code="200"), and a string per series each is a million objects for
 * the garbage collector at 100k series. Long strings are not worth a table entry but are copied,
 * since a slice would keep its whole scrape body alive. Bounded: a target with ever new values
 * empties the table now and then rather than growing it.
 */
const INTERN_MAX_LENGTH = 64;
const INTERN_MAX_ENTRIES = 100_000;
const interned = new Map<string, string>();

function intern(s: string): string {
  if (s.length > INTERN_MAX_LENGTH) return flatCopy(s);
  let v = interned.get(s);
  if (v === undefined) {
    if (interned.size >= INTERN_MAX_ENTRIES) interned.clear();
    v = flatCopy(s);
    interned.set(v, v);
  }
  return v;
}

/** A string of its own rather than a slice of a scrape body (V8 slices strings of 13+ chars). */
export function flatCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function isBlank(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpace(s.charCodeAt(i)) && s.charCodeAt(i) !== 13) return false;
  return true;
}

/** Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Returns the end index. */
function scanName(s: string, i: number, end: number): number {
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    const ok =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (j > i && c >= 48 && c <= 57);
    if (!ok) break;
    j++;
  }
  return j;
}

function scanLabelName(s: string, i: number, end: number): number {
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (j > i && c >= 48 && c <= 57);
    if (!ok) break;
    j++;
  }
  return j;
}

function parseIntTimestamp(s: string): number | null {
  if (!/^-?\d{1,19}$/.test(s)) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}

/** OpenMetrics timestamps are seconds, possibly fractional. */
function parseOMTimestamp(s: string): number | null {
  const v = parseSampleValue(s);
  if (v === undefined || !Number.isFinite(v)) return null;
  return Math.round(v * 1000);
}

function unescapeHelp(s: string, om: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const d = s[i + 1];
    if (d === '\\') out += '\\';
    else if (d === 'n') out += '\n';
    else if (d === '"' && om) out += '"';
    else out += '\\' + (d ?? '');
    i++;
  }
  return out;
}
