import {
  isStaleNaN,
  compareLabels,
  isValidLabelName,
  prometheusLabelsHash,
  LabelsBuilder,
  labelsKey,
  METRIC_NAME,
  type Label,
  LabelMatcher,
  type Labels,
  type FloatHistogram,
  sortSliced,
  TimeSlice,
} from '@pharos/model';
import { anchoredRegex, expandTemplate } from '@pharos/regex';
import type { Queryable, SeriesData } from '@pharos/tsdb';
import {
  COMPARISON_OPS,
  type AggregateExpr,
  type AtModifier,
  type BinaryExpr,
  type Call,
  type Expr,
  type VectorMatching,
} from '../parser/ast.js';
import { formatOpenMetricsFloat } from '@pharos/exposition';
import { resolveDurations } from '../parser/duration-expr.js';
import { enrich, infoAtSteps } from './info.js';
import { START_TIMESTAMP_FUNCTIONS, hasStartOverlap } from './start-timestamps.js';
import {
  checkExtendedFunction,
  extendedRate,
  anchoredStart,
  smoothedValue,
  type ExtendedKind,
} from './extended-range.js';
import { parseExpr, typeOf } from '../parser/parser.js';
import {
  HISTOGRAM_RANGE_FUNCTIONS,
  histogramFraction,
  histogramQuantile as nativeQuantile,
  histogramVariance,
  histogramBinop,
  histogramWindow,
  sumHistograms,
  type HistogramNotes,
} from './histograms.js';
import {
  bucketFraction,
  bucketQuantile,
  DATE_FUNCTIONS,
  MATH_FUNCTIONS,
  roundTo,
} from './instant-functions.js';
import {
  KahanSum,
  MeanAccumulator,
  NAME_KEEPING_RANGE_FUNCTIONS,
  quantile,
  RANGE_FUNCTIONS,
} from './range-functions.js';
import {
  Annotator,
  formatG,
  QueryError,
  type EvalValue,
  type QueryResult,
  type QueryStats,
  type RangeSeries,
  type StepSeries,
} from './types.js';

export interface EngineOptions {
  /** How far back an instant selector looks for a sample (ms); Prometheus' default is 5m. */
  readonly lookbackDelta: number;
  /** Most samples a query may hold at once. */
  readonly maxSamples: number;
  /** Most series a query may select, summed over its selectors (0 or absent: no limit). */
  readonly maxSeries?: number;
  /** Query timeout in ms. */
  readonly timeout: number;
  /**
   * Prometheus' promql-delayed-name-removal feature: functions and operators mark the metric
   * name for removal and it is removed when the query ends, so labels can still be matched on it.
   */
  readonly delayedNameRemoval?: boolean;
}

function tooManySamples(): QueryError {
  return new QueryError(
    'query processing would load too many samples into memory in query execution',
    'too_many_samples',
  );
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  lookbackDelta: 300_000,
  maxSamples: 50_000_000,
  timeout: 120_000,
};

/** One evaluation's frame: the steps it runs at. Subqueries evaluate in frames of their own. */
interface Frame {
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly n: number;
  /** The outermost query's start and end, for @ start() / end(). */
  readonly queryStart: number;
  readonly queryEnd: number;
  /** The outermost query's step (0 for an instant query), for step(). */
  readonly queryStep: number;
}

/** Functions whose value is a property of the whole query (in ms), the same at every step. */
const QUERY_CONSTANTS: Record<string, ((f: Frame) => number) | undefined> = {
  step: (f) => f.queryStep,
  range: (f) => f.queryEnd - f.queryStart,
  start: (f) => f.queryStart,
  end: (f) => f.queryEnd,
};

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

/** What histogram_count, _sum, _avg, _stddev and _stdvar take from one histogram. */
const HISTOGRAM_STATS: Record<string, (h: FloatHistogram) => number> = {
  histogram_count: (h) => h.count,
  histogram_sum: (h) => h.sum,
  histogram_avg: (h) => h.sum / h.count,
  histogram_stddev: (h) => Math.sqrt(histogramVariance(h)),
  histogram_stdvar: (h) => histogramVariance(h),
};

function frameTimes(f: Frame): Float64Array {
  const out = new Float64Array(f.n);
  for (let i = 0; i < f.n; i++) out[i] = f.start + i * f.step;
  return out;
}

class Evaluation {
  private samples = 0;
  /** Points the results alive at this moment of the evaluation hold (--query.max-samples). */
  private held = 0;
  private series = 0;
  private readonly started = performance.now();
  private readonly deadline: number;
  /** The caller's signal and the engine's own timeout: storage reads stop on either. */
  private readonly stop: AbortSignal;
  private readonly slice = new TimeSlice();
  readonly notes = new Annotator();

  private get delayed(): boolean {
    return this.opts.delayedNameRemoval === true;
  }

  constructor(
    private readonly q: Queryable,
    private readonly opts: EngineOptions,
    signal?: AbortSignal,
  ) {
    this.deadline = Date.now() + opts.timeout;
    const timeout = AbortSignal.timeout(opts.timeout);
    this.stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  /**
   * Between units of work (a series, a group): gives the event loop back once the time slice is
   * spent, and stops the evaluation once it timed out or was cancelled.
   */
  private async tick(): Promise<void> {
    if (this.slice.due()) await this.slice.pause();
    this.checkpoint();
  }

  private async select(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<SeriesData[]> {
    try {
      return this.selected(await this.q.select(matchers, mint, maxt, this.stop));
    } catch (e) {
      this.checkpoint();
      throw e;
    }
  }

  /** Counts a node's result against --query.max-samples; its inputs were counted as they came. */
  private hold(v: EvalValue): EvalValue {
    let n = 0;
    if (v.kind === 'vector') {
      for (const s of v.series) for (let i = 0; i < s.has.length; i++) n += s.has[i];
    } else if (v.kind === 'matrix') {
      for (const s of v.series) n += s.timestamps.length;
    } else if (v.kind === 'scalar') n = v.vals.length;
    this.held += n;
    if (this.held > this.opts.maxSamples) throw tooManySamples();
    return v;
  }

  /** Warns, once, about quantiles outside [0, 1], as upstream does before evaluating. */
  checkQuantiles(q: ArrayLike<number>): void {
    for (let i = 0; i < q.length; i++) {
      const v = q[i];
      if (Number.isNaN(v) || v < 0 || v > 1) {
        this.notes.warn(`quantile value should be between 0 and 1, got ${formatG(v)}`);
        return;
      }
    }
  }

  private checkpoint(): void {
    if (this.stop.aborted) {
      const timedOut = (this.stop.reason as Error | undefined)?.name === 'TimeoutError';
      throw timedOut
        ? new QueryError('query timed out in expression evaluation', 'timeout')
        : new QueryError('query was canceled', 'canceled');
    }
    if (Date.now() > this.deadline)
      throw new QueryError('query timed out in expression evaluation', 'timeout');
  }

  get stats(): QueryStats {
    return { totalQueryableSamples: this.samples, evalMs: performance.now() - this.started };
  }

  private account(n: number): void {
    this.samples += n;
    if (this.samples > this.opts.maxSamples) throw tooManySamples();
  }

  /** Counts what a selector brought back against --query.max-series. */
  private selected<T>(data: T[]): T[] {
    this.series += data.length;
    const max = this.opts.maxSeries ?? 0;
    if (max > 0 && this.series > max) {
      throw new QueryError(
        `query selected more than the limit of ${max} series (--query.max-series)`,
        'too_many_series',
      );
    }
    return data;
  }

  /**
   * Evaluates one node. What its children held is released when it returns, so the points held
   * at once are those of the results still waiting to be used, as Prometheus counts them.
   */
  async eval(e: Expr, f: Frame): Promise<EvalValue> {
    await this.tick();
    if (e.type === 'ParenExpr') return this.eval(e.expr, f);
    const before = this.held;
    const v = await this.evalNode(e, f);
    this.held = before;
    return this.hold(v);
  }

  private async evalNode(e: Expr, f: Frame): Promise<EvalValue> {
    switch (e.type) {
      case 'NumberLiteral':
        return { kind: 'scalar', vals: new Float64Array(f.n).fill(e.value) };
      case 'StringLiteral':
        return { kind: 'string', value: e.value };
      case 'ParenExpr':
        return this.eval(e.expr, f);
      case 'UnaryExpr': {
        const v = await this.eval(e.expr, f);
        if (e.op === '+') return v;
        if (v.kind === 'scalar') return { kind: 'scalar', vals: v.vals.map((x) => -x) };
        if (v.kind !== 'vector') throw new QueryError('unary minus on a non-vector');
        // Dropping the name can make series equal: they merge where they do not overlap in time.
        const negated = v.series.map((s) => ({
          labels: dropName(s.labels),
          vals: s.vals.map((x) => -x),
          has: s.has,
          ...(s.hists ? { hists: s.hists.map((h) => h?.copy().mul(-1)) } : {}),
        }));
        return { kind: 'vector', series: mergeSameLabels(negated, f.n) };
      }
      case 'VectorSelector':
        return this.evalVectorSelector(e.matchers, e.offset, e.at, f, 'value', e.extended === 'smoothed');
      case 'MatrixSelector': {
        const ext = e.vector.extended;
        // Extended ranges need the samples a lookback delta before (and, smoothed, after) each window.
        const before = ext ? this.opts.lookbackDelta : 0;
        const after = ext === 'smoothed' ? this.opts.lookbackDelta : 0;
        const data = await this.fetchRange(
          e.vector.matchers,
          e.vector.offset,
          e.vector.at,
          e.range + before,
          f,
          after,
        );
        return { kind: 'matrix', series: data, range: e.range, ...(ext ? { extended: ext } : {}) };
      }
      case 'SubqueryExpr':
        return this.evalSubquery(e, f);
      case 'Call':
        return this.evalCall(e, f);
      case 'AggregateExpr':
        return this.evalAggregate(e, f);
      case 'BinaryExpr':
        return this.evalBinary(e, f);
    }
  }

  private atTime(at: AtModifier | null, f: Frame): number | null {
    if (at === null) return null;
    if (at.kind === 'time') return at.ms;
    return at.kind === 'start' ? f.queryStart : f.queryEnd;
  }

  /** Evaluation times of a selector at each step: the step itself, or the @ time, minus offset. */
  private selectorTimes(offset: number, at: AtModifier | null, f: Frame): Float64Array {
    const fixed = this.atTime(at, f);
    const out = new Float64Array(f.n);
    for (let i = 0; i < f.n; i++) out[i] = (fixed ?? f.start + i * f.step) - offset;
    return out;
  }

  private async evalVectorSelector(
    matchers: readonly LabelMatcher[],
    offset: number,
    at: AtModifier | null,
    f: Frame,
    /** What to emit for a sample: its value, its time (timestamp()) or its start time (start_timestamp()). */
    emit: 'value' | 'time' | 'start' = 'value',
    smoothed = false,
  ): Promise<EvalValue> {
    const times = this.selectorTimes(offset, at, f);
    const mint = Math.min(times[0], times[f.n - 1]) - this.opts.lookbackDelta;
    const maxt = Math.max(times[0], times[f.n - 1]);
    const lookback = this.opts.lookbackDelta;
    const data = await this.select(matchers, mint + 1, maxt + (smoothed ? lookback : 0));
    const series: StepSeries[] = [];
    if (smoothed) {
      for (const raw of data) {
        await this.tick();
        const d = withoutStaleMarkers(raw);
        this.account(d.timestamps.length);
        const vals = new Float64Array(f.n);
        const has = new Uint8Array(f.n);
        for (let i = 0; i < f.n; i++) {
          const v = smoothedValue(d.timestamps, d.values, times[i], lookback);
          if (v === undefined) continue;
          vals[i] = v;
          has[i] = 1;
        }
        if (has.includes(1)) series.push({ labels: d.labels, vals, has });
      }
      return { kind: 'vector', series };
    }
    for (const d of data) {
      await this.tick();
      this.account(d.timestamps.length);
      const vals = new Float64Array(f.n);
      const has = new Uint8Array(f.n);
      const ts = d.timestamps;
      let j = 0;
      let any = false;
      let hists: Array<FloatHistogram | undefined> | undefined;
      for (let i = 0; i < f.n; i++) {
        const t = times[i];
        // Times only move forward without @, so the cursor never goes back; with @ all are equal.
        if (i > 0 && t < times[i - 1]) j = 0;
        while (j < ts.length && ts[j] <= t) j++;
        const k = j - 1;
        if (k >= 0 && ts[k] > t - lookback && !isStaleNaN(d.values[k])) {
          const h = emit === 'value' ? d.histograms?.[k] : undefined;
          if (h) {
            (hists ??= new Array<FloatHistogram | undefined>(f.n))[i] = h;
            has[i] = 1;
            any = true;
            continue;
          }
          vals[i] =
            emit === 'value'
              ? d.values[k]
              : emit === 'time'
                ? ts[k] / 1000
                : (d.startTimestamps?.[k] ?? 0) / 1000;
          has[i] = 1;
          any = true;
        }
      }
      if (any)
        series.push({
          ...(emit !== 'value' ? named(d.labels, this.delayed) : { labels: d.labels }),
          vals,
          has,
          ...(hists ? { hists } : {}),
        });
    }
    return { kind: 'vector', series: emit !== 'value' ? mergeSameLabels(series, f.n) : series };
  }

  private async fetchRange(
    matchers: readonly LabelMatcher[],
    offset: number,
    at: AtModifier | null,
    range: number,
    f: Frame,
    /** How far past each window's end samples are needed (smoothed ranges). */
    after = 0,
  ): Promise<SeriesData[]> {
    const times = this.selectorTimes(offset, at, f);
    const mint = Math.min(times[0], times[f.n - 1]) - range;
    const maxt = Math.max(times[0], times[f.n - 1]) + after;
    const data = await this.select(matchers, mint + 1, maxt);
    const out: SeriesData[] = [];
    for (const d of data) {
      await this.tick();
      this.account(d.timestamps.length);
      out.push(withoutStaleMarkers(d));
    }
    return out;
  }

  private async evalSubquery(e: Extract<Expr, { type: 'SubqueryExpr' }>, f: Frame): Promise<EvalValue> {
    const step = e.step > 0 ? e.step : 60_000;
    const fixed = this.atTime(e.at, f);
    const outerStart = (fixed ?? f.start) - e.offset;
    const outerEnd = (fixed ?? f.end) - e.offset;
    const lo = outerStart - e.range;
    let start = Math.floor(lo / step) * step;
    if (start <= lo) start += step;
    const n = outerEnd >= start ? Math.floor((outerEnd - start) / step) + 1 : 0;
    if (n === 0) return { kind: 'matrix', series: [], range: e.range };
    const inner: Frame = {
      start,
      end: start + (n - 1) * step,
      step,
      n,
      queryStart: f.queryStart,
      queryStep: f.queryStep,
      queryEnd: f.queryEnd,
    };
    const v = await this.eval(e.expr, inner);
    const series: SeriesData[] = [];
    const times = frameTimes(inner);
    const vec =
      v.kind === 'scalar'
        ? [{ labels: [] as Labels, vals: v.vals, has: new Uint8Array(n).fill(1) }]
        : v.kind === 'vector'
          ? v.series
          : [];
    for (const s of vec) {
      await this.tick();
      // Straight into typed arrays: a subquery holds millions of points, and plain arrays of
      // them (with a histogram slot for every float) were most of a query's garbage.
      const { timestamps, values, histograms } = stepsToSamples(s, times);
      const labels = s.dropName ? dropName(s.labels) : s.labels;
      series.push({ labels, timestamps, values, ...(histograms ? { histograms } : {}) });
    }
    // The subquery's own offset and @ were applied when choosing its frame; the windows below
    // are taken relative to the same shifted times.
    return { kind: 'matrix', series, range: e.range, shift: { offset: e.offset, at: fixed } };
  }

  /** Applies a range function to each series of a range argument, window by window. */
  private async applyRange(
    name: string,
    arg: Expr,
    m: Extract<EvalValue, { kind: 'matrix' }>,
    params: number[],
    f: Frame,
    paramAt?: Float64Array[],
  ): Promise<EvalValue> {
    if (m.extended) return this.applyExtendedRange(name, arg, m, f);
    const fn = RANGE_FUNCTIONS.get(name);
    if (!fn) throw new QueryError(`function "${name}" is not implemented yet`);
    const { offset, at } = windowShift(arg, m);
    const fixed = at !== undefined ? at : this.atTime(atOf(arg), f);
    const keepName = NAME_KEEPING_RANGE_FUNCTIONS.has(name);
    const out: StepSeries[] = [];
    const stepParams = params.slice();
    if (name === 'quantile_over_time') this.checkQuantiles(paramAt ? paramAt[0] : params);
    const countersOnly = name === 'rate' || name === 'increase';
    for (const raw of m.series) {
      await this.tick();
      const histogramAware = raw.histograms !== undefined && HISTOGRAM_RANGE_FUNCTIONS.has(name);
      const s = raw.histograms !== undefined && !histogramAware ? floatSamples(raw) : raw;
      const ts = s.timestamps;
      const startAware = START_TIMESTAMP_FUNCTIONS.get(name);
      const sts = startAware ? s.startTimestamps : undefined;
      let overlap = false;
      const vals = new Float64Array(f.n);
      const has = new Uint8Array(f.n);
      let hists: Array<FloatHistogram | undefined> | undefined;
      const hn: HistogramNotes = {};
      let lo = 0;
      let hi = 0;
      let any = false;
      let anyFloat = false;
      for (let i = 0; i < f.n; i++) {
        const rangeEnd = (fixed ?? f.start + i * f.step) - offset;
        const rangeStart = rangeEnd - m.range;
        if (fixed !== null || i === 0) {
          lo = 0;
          hi = 0;
        }
        while (lo < ts.length && ts[lo] <= rangeStart) lo++;
        if (hi < lo) hi = lo;
        while (hi < ts.length && ts[hi] <= rangeEnd) hi++;
        if (paramAt) for (let p = 0; p < paramAt.length; p++) stepParams[p] = paramAt[p][i];
        const floats = (): number | undefined =>
          startAware && sts
            ? startAware(ts, s.values, sts, lo, hi, rangeStart, rangeEnd)
            : fn(ts, s.values, lo, hi, rangeStart, rangeEnd, stepParams, f.start + i * f.step);
        if (sts && !overlap && hasStartOverlap(ts, sts, lo, hi)) overlap = true;
        // Float series, the common case, take the float function straight, with no result object.
        const r = histogramAware
          ? histogramWindow(name, ts, s.histograms ?? [], lo, hi, rangeStart, rangeEnd, hn, floats)
          : undefined;
        const v = histogramAware ? r?.v : floats();
        if (r?.h) {
          (hists ??= new Array<FloatHistogram | undefined>(f.n))[i] = r.h;
          has[i] = 1;
          any = true;
        } else if (v !== undefined) {
          vals[i] = v;
          has[i] = 1;
          any = anyFloat = true;
        }
      }
      this.histogramAnnotations(hn, s.labels, name.endsWith('_over_time') ? 'aggregation' : 'subtraction');
      if (overlap)
        this.notes.warn(
          `sample has start time that overlaps with previous sample timestamp for metric ${JSON.stringify(valueOf(s.labels, METRIC_NAME))}`,
        );
      if (any)
        out.push({
          ...(keepName ? { labels: s.labels } : named(s.labels, this.delayed)),
          vals,
          has,
          ...(hists ? { hists } : {}),
        });
      if (anyFloat && countersOnly) {
        const metric = valueOf(s.labels, METRIC_NAME);
        if (!COUNTER_SUFFIXES.some((x) => metric.endsWith(x))) {
          this.notes.info(
            `metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "${metric}"`,
          );
        }
      }
    }
    return { kind: 'vector', series: mergeSameLabels(out, f.n) };
  }

  /** The annotations Prometheus gives for what a computation over histograms ran into. */
  histogramAnnotations(hn: HistogramNotes, labels: Labels, operation: string): void {
    const metric = JSON.stringify(valueOf(labels, METRIC_NAME));
    if (hn.mixed) this.notes.warn(`encountered a mix of histograms and floats for metric name ${metric}`);
    if (hn.schemaMix)
      this.notes.warn(
        `vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${metric}`,
      );
    if (hn.notCounter) this.notes.warn(`this native histogram metric is not a counter: ${metric}`);
    if (hn.notGauge) this.notes.warn(`this native histogram metric is not a gauge: ${metric}`);
    if (hn.conflictingResets) this.notes.warn('conflicting counter resets during histogram aggregation');
    if (hn.reconciled) this.notes.info(`mismatched custom buckets were reconciled during ${operation}`);
  }

  /** rate, increase, delta, changes and resets over anchored or smoothed windows. */
  private async applyExtendedRange(
    name: string,
    arg: Expr,
    m: Extract<EvalValue, { kind: 'matrix' }>,
    f: Frame,
  ): Promise<EvalValue> {
    const kind = m.extended as ExtendedKind;
    const problem = checkExtendedFunction(kind, name);
    if (problem) throw new QueryError(problem);
    const { offset, at } = windowShift(arg, m);
    const fixed = at !== undefined ? at : this.atTime(atOf(arg), f);
    const lookback = this.opts.lookbackDelta;
    const fn = RANGE_FUNCTIONS.get(name);
    const out: StepSeries[] = [];
    for (const raw of m.series) {
      await this.tick();
      const s = floatSamples(raw);
      const ts = s.timestamps;
      const vals = new Float64Array(f.n);
      const has = new Uint8Array(f.n);
      for (let i = 0; i < f.n; i++) {
        const rangeEnd = (fixed ?? f.start + i * f.step) - offset;
        const rangeStart = rangeEnd - m.range;
        let lo = 0;
        while (lo < ts.length && ts[lo] <= rangeStart - lookback) lo++;
        let hi = lo;
        const until = kind === 'smoothed' ? rangeEnd + lookback : rangeEnd;
        while (hi < ts.length && ts[hi] <= until) hi++;
        let v: number | undefined;
        if (name === 'rate' || name === 'increase' || name === 'delta') {
          const smoothed = kind === 'smoothed';
          v = extendedRate(
            ts,
            s.values,
            lo,
            hi,
            rangeStart,
            rangeEnd,
            smoothed,
            name !== 'delta',
            name === 'rate',
          );
        } else if (fn) {
          // changes() and resets(): from the anchor sample at or before the window's start.
          const from = anchoredStart(ts, lo, hi, rangeStart);
          if (from >= 0) v = fn(ts, s.values, from, hi, rangeStart, rangeEnd, [], f.start + i * f.step);
        }
        if (v === undefined) continue;
        vals[i] = v;
        has[i] = 1;
      }
      if (has.includes(1)) out.push({ ...named(s.labels, this.delayed), vals, has });
    }
    return { kind: 'vector', series: mergeSameLabels(out, f.n) };
  }

  private async evalInfo(e: Call, f: Frame): Promise<EvalValue> {
    const base = await this.eval(e.args[0], f);
    if (base.kind !== 'vector') throw new QueryError('info() expects an instant vector');
    const sel = e.args[1];
    const matchers = sel && sel.type === 'VectorSelector' ? sel.matchers : [];
    let nameMatchers = matchers.filter((m) => m.name === METRIC_NAME);
    // Without a name the info metric is target_info; negative name matchers alone narrow the
    // info metrics (names ending in _info) rather than widen the search to every series.
    if (nameMatchers.length === 0) nameMatchers = [new LabelMatcher('=', METRIC_NAME, 'target_info')];
    else if (!nameMatchers.some((m) => m.type === '=' || m.type === '=~'))
      nameMatchers = [new LabelMatcher('=~', METRIC_NAME, '.+_info'), ...nameMatchers];
    const dataMatchers = matchers.filter((m) => m.name !== METRIC_NAME);
    const times = frameTimes(f);
    const lookback = this.opts.lookbackDelta;
    const data = await this.select(nameMatchers, times[0] - lookback + 1, times[f.n - 1]);
    for (const d of data) this.account(d.timestamps.length);
    const infos = infoAtSteps(data, times, lookback, isStaleNaN);
    return { kind: 'vector', series: enrich(base.series, infos, nameMatchers, dataMatchers, f.n) };
  }

  private async evalCall(e: Call, f: Frame): Promise<EvalValue> {
    const name = e.func;
    if (name === 'time') return { kind: 'scalar', vals: frameTimes(f).map((t) => t / 1000) };
    if (name === 'pi') return { kind: 'scalar', vals: new Float64Array(f.n).fill(Math.PI) };
    const queryConstant = QUERY_CONSTANTS[name];
    if (queryConstant) return { kind: 'scalar', vals: new Float64Array(f.n).fill(queryConstant(f) / 1000) };
    if (name === 'info') return this.evalInfo(e, f);
    if (name === 'min_of' || name === 'max_of') {
      const args: EvalValue[] = [];
      for (const a of e.args) args.push(await this.eval(a, f));
      const vals = new Float64Array(f.n);
      for (let i = 0; i < f.n; i++) {
        let r = name === 'min_of' ? Infinity : -Infinity;
        for (const a of args) {
          const v = (a as Extract<EvalValue, { kind: 'scalar' }>).vals[i];
          r = Number.isNaN(v) || Number.isNaN(r) ? NaN : name === 'min_of' ? Math.min(r, v) : Math.max(r, v);
        }
        vals[i] = r;
      }
      return { kind: 'scalar', vals };
    }
    if (RANGE_FUNCTIONS.has(name)) {
      const argIdx = e.args.findIndex((a) => typeOf(a) === 'matrix');
      const scalars: Float64Array[] = [];
      for (let i = 0; i < e.args.length; i++) {
        if (i === argIdx) continue;
        const v = await this.eval(e.args[i], f);
        if (v.kind !== 'scalar') throw new QueryError(`expected scalar argument to ${name}`);
        scalars.push(v.vals);
      }
      const m = await this.eval(e.args[argIdx], f);
      if (m.kind !== 'matrix') throw new QueryError(`expected range vector argument to ${name}`);
      return this.applyRange(
        name,
        e.args[argIdx],
        m,
        scalars.map((s) => s[0]),
        f,
        scalars,
      );
    }
    if (name === 'absent_over_time') {
      const m = await this.eval(e.args[0], f);
      if (m.kind !== 'matrix') throw new QueryError('expected range vector');
      const present = await this.applyRange('present_over_time', e.args[0], m, [], f);
      return absentOf(e.args[0], present, f.n);
    }
    const args: EvalValue[] = [];
    for (const a of e.args) args.push(await this.eval(a, f));
    // Every sample, histograms included, for the functions that take them.
    const vecAll = (i: number): StepSeries[] => {
      const v = args[i];
      if (v.kind !== 'vector') throw new QueryError(`expected instant vector argument ${i + 1} to ${name}`);
      return v.series;
    };
    const vec = (i: number): StepSeries[] => vecAll(i).map(floatSteps);
    const scalar = (i: number): Float64Array => {
      const v = args[i];
      if (v.kind !== 'scalar') throw new QueryError(`expected scalar argument ${i + 1} to ${name}`);
      return v.vals;
    };
    const str = (i: number): string => {
      const v = args[i];
      if (v.kind !== 'string') throw new QueryError(`expected string argument ${i + 1} to ${name}`);
      return v.value;
    };
    const mapValues = (fn: (v: number, i: number) => number, keepName = false): EvalValue => ({
      kind: 'vector',
      series: mergeSameLabels(
        vec(0).map((s) => ({
          ...(keepName ? { labels: s.labels, dropName: s.dropName } : named(s.labels, this.delayed)),
          vals: s.vals.map((v, i) => (s.has[i] ? fn(v, i) : 0)),
          has: s.has,
        })),
        f.n,
      ),
    });
    const math = MATH_FUNCTIONS.get(name);
    if (math) return mapValues(math);
    const date = DATE_FUNCTIONS.get(name);
    if (date) {
      if (e.args.length === 0) {
        const times = frameTimes(f);
        return {
          kind: 'vector',
          series: [
            { labels: [], vals: times.map((t) => date(new Date(t))), has: new Uint8Array(f.n).fill(1) },
          ],
        };
      }
      return mapValues((v) => (Number.isFinite(v) ? date(new Date(Math.floor(v) * 1000)) : NaN));
    }
    switch (name) {
      case 'vector': {
        const s = scalar(0);
        return {
          kind: 'vector',
          series: [{ labels: [], vals: s.slice(), has: new Uint8Array(f.n).fill(1) }],
        };
      }
      case 'scalar': {
        const series = vec(0);
        const out = new Float64Array(f.n).fill(NaN);
        for (let i = 0; i < f.n; i++) {
          let found = -1;
          for (let k = 0; k < series.length; k++) {
            if (series[k].has[i]) {
              if (found >= 0) {
                found = -2;
                break;
              }
              found = k;
            }
          }
          if (found >= 0) out[i] = series[found].vals[i];
        }
        return { kind: 'scalar', vals: out };
      }
      case 'timestamp': {
        const arg = e.args[0];
        const inner = arg.type === 'ParenExpr' ? arg.expr : arg;
        if (inner.type === 'VectorSelector') {
          // timestamp() of a selector reports the sample's own time, not the step's.
          return this.evalVectorSelector(inner.matchers, inner.offset, inner.at, f, 'time');
        }
        const times = frameTimes(f);
        return mapValues((_v, i) => times[i] / 1000);
      }
      case 'start_timestamp': {
        const arg = e.args[0];
        const inner = arg.type === 'ParenExpr' ? arg.expr : arg;
        // Only samples straight from storage carry start times; computed ones have none.
        if (inner.type === 'VectorSelector')
          return this.evalVectorSelector(inner.matchers, inner.offset, inner.at, f, 'start');
        return { kind: 'vector', series: [] };
      }
      case 'clamp': {
        const lo = scalar(1);
        const hi = scalar(2);
        const r = mapValues((v, i) => Math.max(lo[i], Math.min(hi[i], v)));
        if (r.kind === 'vector')
          for (const s of r.series) for (let i = 0; i < f.n; i++) if (lo[i] > hi[i]) s.has[i] = 0;
        return r;
      }
      case 'clamp_min': {
        const lo = scalar(1);
        return mapValues((v, i) => (Number.isNaN(v) ? v : Math.max(lo[i], v)));
      }
      case 'clamp_max': {
        const hi = scalar(1);
        return mapValues((v, i) => (Number.isNaN(v) ? v : Math.min(hi[i], v)));
      }
      case 'round': {
        const to = e.args.length > 1 ? scalar(1) : new Float64Array(f.n).fill(1);
        return mapValues((v, i) => roundTo(v, to[i]));
      }
      case 'absent':
        return absentOf(e.args[0], args[0], f.n);
      case 'sort':
      case 'sort_desc':
      case 'sort_by_label':
      case 'sort_by_label_desc':
        if (f.queryStep > 0)
          this.notes.warn('sort is ineffective for range queries since results are always ordered by labels');
        return sortSeries(
          name,
          name.startsWith('sort_by_label') ? vecAll(0) : vec(0),
          args.slice(1).map((a) => (a.kind === 'string' ? a.value : '')),
        );
      case 'label_replace':
        return this.labelReplace(vecAll(0), str(1), str(2), str(3), str(4), f.n);
      case 'label_join': {
        const dst = str(1);
        const sep = str(2);
        const srcs = args.slice(3).map((_a, i) => str(i + 3));
        if (!isValidLabelName(dst))
          throw new QueryError(`invalid destination label name in label_join(): ${dst}`);
        for (const src of srcs) {
          if (!isValidLabelName(src))
            throw new QueryError(`invalid source label name in label_join(): ${src}`);
        }
        const out = vecAll(0).map((s) => {
          const b = new LabelsBuilder(s.labels);
          b.set(dst, srcs.map((n) => b.get(n)).join(sep));
          return { ...s, labels: b.labels(), dropName: dst === METRIC_NAME ? false : s.dropName };
        });
        return { kind: 'vector', series: mergeSameLabels(out, f.n) };
      }
      case 'histogram_count':
      case 'histogram_sum':
      case 'histogram_avg':
      case 'histogram_stddev':
      case 'histogram_stdvar': {
        const stat = HISTOGRAM_STATS[name];
        return { kind: 'vector', series: this.mapHistograms(vecAll(0), f.n, stat) };
      }
      case 'histogram_quantile': {
        const q = scalar(0);
        this.checkQuantiles(q);
        return { kind: 'vector', series: this.quantiles(q, vecAll(1), f.n) };
      }
      case 'histogram_quantiles': {
        // One output series per quantile, told apart by a label holding the quantile.
        const label = str(1);
        const series: StepSeries[] = [];
        for (let k = 2; k < args.length; k++) {
          const q = scalar(k);
          this.checkQuantiles(q);
          const value = formatOpenMetricsFloat(q[0]);
          for (const s of this.quantiles(q, vecAll(0), f.n)) {
            if (s.labels.some((l) => l.name === label))
              throw new QueryError(`label "${label}" already exists in the input of histogram_quantiles`);
            series.push({ ...s, labels: new LabelsBuilder(s.labels).set(label, value).labels() });
          }
        }
        return { kind: 'vector', series };
      }
      case 'histogram_fraction': {
        const lower = scalar(0);
        const upper = scalar(1);
        const input = vecAll(2);
        const groups = bucketGroups(classicInput(input), this.notes);
        const classic = perBucketGroup(groups, f.n, (_g, i, bs) => bucketFraction(lower[i], upper[i], bs));
        const native = this.mapHistograms(input, f.n, (h, i, labels) => {
          if (Number.isNaN(h.sum))
            this.notes.info(
              `input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name ${JSON.stringify(valueOf(labels, METRIC_NAME))}`,
            );
          return histogramFraction(lower[i], upper[i], h);
        });
        return { kind: 'vector', series: this.mixClassicAndNative(classic, native, f.n) };
      }
      default:
        throw new QueryError(`function "${name}" is not implemented yet`);
    }
  }

  /** A float per histogram step of each series; float steps give nothing. */
  private mapHistograms(
    series: StepSeries[],
    n: number,
    fn: (h: FloatHistogram, i: number, labels: Labels) => number,
  ): StepSeries[] {
    const out: StepSeries[] = [];
    for (const s of series) {
      if (!s.hists) continue;
      const vals = new Float64Array(n);
      const has = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const h = s.hists[i];
        if (!h) continue;
        vals[i] = fn(h, i, s.labels);
        has[i] = 1;
      }
      if (has.includes(1)) out.push({ ...named(s.labels, this.delayed), vals, has });
    }
    return mergeSameLabels(out, n);
  }

  /** histogram_quantile over classic bucket series and native histograms alike. */
  private quantiles(q: Float64Array, input: StepSeries[], n: number): StepSeries[] {
    const classic = histogramQuantile(q, bucketGroups(classicInput(input), this.notes), n, this.notes);
    const native = this.mapHistograms(input, n, (h, i, labels) => {
      const nan: { result?: 'nan' | 'skewed' } = {};
      const v = nativeQuantile(q[i], h, nan);
      if (nan.result)
        this.notes.info(
          `input to histogram_quantile has NaN observations, result is ${nan.result === 'nan' ? 'NaN' : 'skewed higher'} for metric name ${JSON.stringify(valueOf(labels, METRIC_NAME))}`,
        );
      return v;
    });
    return this.mixClassicAndNative(classic, native, n);
  }

  /** Results of classic and native histograms; where both give one for a series, neither counts. */
  private mixClassicAndNative(classic: StepSeries[], native: StepSeries[], n: number): StepSeries[] {
    if (classic.length === 0) return native;
    if (native.length === 0) return classic;
    const byKey = new Map(native.map((s) => [labelsKey(s.dropName ? dropName(s.labels) : s.labels), s]));
    const out = native.slice();
    for (const c of classic) {
      const nat = byKey.get(labelsKey(c.dropName ? dropName(c.labels) : c.labels));
      if (!nat) {
        out.push(c);
        continue;
      }
      for (let i = 0; i < n; i++) {
        if (c.has[i] && nat.has[i]) {
          c.has[i] = 0;
          nat.has[i] = 0;
          this.notes.warn(
            `vector contains a mix of classic and native histograms for metric name ${JSON.stringify(valueOf(nat.labels, METRIC_NAME))}`,
          );
        } else if (c.has[i]) {
          nat.vals[i] = c.vals[i];
          nat.has[i] = 1;
        }
      }
    }
    return out.filter((s) => s.has.includes(1));
  }

  private labelReplace(
    series: StepSeries[],
    dst: string,
    repl: string,
    src: string,
    regex: string,
    n: number,
  ): EvalValue {
    let re;
    try {
      re = anchoredRegex(regex);
    } catch (e) {
      throw new QueryError(
        `invalid regular expression in label_replace(): ${regex}: ${(e as Error).message}`,
      );
    }
    if (!isValidLabelName(dst))
      throw new QueryError(`invalid destination label name in label_replace(): ${dst}`);
    const out = series.map((s) => {
      const b = new LabelsBuilder(s.labels);
      const m = re.exec(b.get(src));
      if (m === null) return s;
      b.set(dst, expandTemplate(repl, m));
      // Writing the name keeps it: the result is no longer marked for name removal.
      return { ...s, labels: b.labels(), dropName: dst === METRIC_NAME ? false : s.dropName };
    });
    return { kind: 'vector', series: mergeSameLabels(out, n) };
  }

  private async evalAggregate(e: AggregateExpr, f: Frame): Promise<EvalValue> {
    const v = await this.eval(e.expr, f);
    if (v.kind !== 'vector') throw new QueryError('aggregation over a non-vector');
    let param: Float64Array | null = null;
    let label = '';
    if (e.param !== null) {
      const p = await this.eval(e.param, f);
      if (p.kind === 'scalar') param = p.vals;
      else if (p.kind === 'string') label = p.value;
    }
    if (e.op === 'quantile' && param) this.checkQuantiles(param);
    if (param && (e.op === 'topk' || e.op === 'bottomk' || e.op === 'limitk' || e.op === 'limit_ratio')) {
      for (const k of param) {
        if (!Number.isNaN(k)) continue;
        throw new QueryError(e.op === 'limit_ratio' ? 'Ratio value is NaN' : 'Parameter value is NaN');
      }
    }
    const groups = new Map<string, { labels: Labels; members: StepSeries[] }>();
    const grouping = new Set(e.grouping);
    // Histograms take part in sum, avg, count, group and the selecting limits; the others see floats.
    const histogramAware = HISTOGRAM_AGGREGATIONS.has(e.op);
    for (const raw of v.series) {
      const s = histogramAware ? raw : floatSteps(raw);
      const gl = groupLabels(s.labels, grouping, e.without);
      const key = labelsKey(gl);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { labels: gl, members: [] }));
      g.members.push(s);
    }
    const n = f.n;
    const out: StepSeries[] = [];
    switch (e.op) {
      case 'topk':
      case 'bottomk':
        return { kind: 'vector', series: topk(e.op === 'topk', groups, param as Float64Array, n) };
      case 'count_values': {
        if (label === '') throw new QueryError('invalid label name ""');
        const byValue = new Map<string, StepSeries>();
        for (const g of groups.values()) {
          for (const s of g.members) {
            for (let i = 0; i < n; i++) {
              if (!s.has[i]) continue;
              const vs = formatCountValue(s.vals[i]);
              const b = new LabelsBuilder(g.labels).set(label, vs);
              const ls = b.labels();
              const key = labelsKey(ls);
              let o = byValue.get(key);
              if (!o)
                byValue.set(key, (o = { labels: ls, vals: new Float64Array(n), has: new Uint8Array(n) }));
              o.vals[i]++;
              o.has[i] = 1;
            }
          }
        }
        return { kind: 'vector', series: [...byValue.values()] };
      }
      case 'limitk':
        return { kind: 'vector', series: limitk(groups, param as Float64Array, n) };
      case 'limit_ratio':
        return { kind: 'vector', series: limitRatio(v.series, param as Float64Array, n, this.notes) };
      default:
        break;
    }
    for (const g of groups.values()) {
      await this.tick();
      const vals = new Float64Array(n);
      const has = new Uint8Array(n);
      const withHistograms = (e.op === 'sum' || e.op === 'avg') && g.members.some((m) => m.hists);
      let hists: Array<FloatHistogram | undefined> | undefined;
      const hn: HistogramNotes = {};
      for (let i = 0; i < n; i++) {
        const step = withHistograms ? aggregateHistogramStep(e.op, g.members, i, hn) : 'floats';
        if (step !== 'floats') {
          if (step) {
            (hists ??= new Array<FloatHistogram | undefined>(n))[i] = step;
            has[i] = 1;
          }
          continue;
        }
        const r = aggregateStep(e.op, g.members, i, param ? param[i] : NaN);
        if (r !== undefined) {
          vals[i] = r;
          has[i] = 1;
        }
      }
      this.histogramAnnotations(hn, g.members[0].labels, 'aggregation');
      // Grouping by the name keeps it, unless a member had it marked for removal.
      if (has.includes(1))
        out.push({
          labels: g.labels,
          vals,
          has,
          dropName: g.members.some((m) => m.dropName),
          ...(hists ? { hists } : {}),
        });
    }
    return { kind: 'vector', series: out };
  }

  private async evalBinary(e: BinaryExpr, f: Frame): Promise<EvalValue> {
    const lhs = await this.eval(e.lhs, f);
    const rhs = await this.eval(e.rhs, f);
    const n = f.n;
    const isCmp = COMPARISON_OPS.has(e.op);
    if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
      const vals = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        // Scalars compare only with bool (the parser refuses the rest): the result is whether it held.
        const [v, held] = binop(e.op, lhs.vals[i], rhs.vals[i]);
        vals[i] = isCmp ? (held ? 1 : 0) : v;
      }
      return { kind: 'scalar', vals };
    }
    if (lhs.kind !== 'vector' && rhs.kind !== 'vector')
      throw new QueryError('binary expression on unsupported types');
    const matching = e.matching ?? { card: 'one-to-one', matchingLabels: [], on: false, include: [] };
    if (
      lhs.kind === 'vector' &&
      rhs.kind === 'vector' &&
      (e.op === 'and' || e.op === 'or' || e.op === 'unless')
    )
      return setOp(e.op, lhs.series, rhs.series, matching, n);
    const hn: HistogramNotes = {};
    let r: EvalValue;
    if (lhs.kind === 'vector' && rhs.kind === 'vector')
      r = vectorVector(e, lhs.series, rhs.series, matching, n, this.delayed, hn);
    else if (lhs.kind === 'vector' && rhs.kind === 'scalar')
      r = vectorScalar(e, lhs.series, rhs.vals, false, n, this.delayed, hn);
    else if (lhs.kind === 'scalar' && rhs.kind === 'vector')
      r = vectorScalar(e, rhs.series, lhs.vals, true, n, this.delayed, hn);
    else throw new QueryError('binary expression on unsupported types');
    this.histogramAnnotations(hn, [], e.op === '-' ? 'subtraction' : 'addition');
    return r;
  }
}

function atOf(arg: Expr): AtModifier | null {
  if (arg.type === 'MatrixSelector') return arg.vector.at;
  if (arg.type === 'ParenExpr') return atOf(arg.expr);
  return null;
}

/** Offset and fixed time that position a range argument's windows relative to each step. */
function windowShift(
  arg: Expr,
  m: Extract<EvalValue, { kind: 'matrix' }>,
): { offset: number; at: number | null | undefined } {
  if (m.shift) return { offset: m.shift.offset, at: m.shift.at };
  if (arg.type === 'MatrixSelector') return { offset: arg.vector.offset, at: undefined };
  if (arg.type === 'ParenExpr') return windowShift(arg.expr, m);
  return { offset: 0, at: undefined };
}

/** A series' float samples, without its histograms. */
function floatSamples(d: SeriesData): SeriesData {
  const hs = d.histograms;
  if (!hs) return d;
  const keep: number[] = [];
  for (let i = 0; i < d.timestamps.length; i++) if (!hs[i]) keep.push(i);
  const sts = d.startTimestamps;
  return {
    labels: d.labels,
    timestamps: Float64Array.from(keep, (i) => d.timestamps[i]),
    values: Float64Array.from(keep, (i) => d.values[i]),
    ...(sts ? { startTimestamps: Float64Array.from(keep, (i) => sts[i]) } : {}),
  };
}

/** The series of a histogram function's input that hold classic buckets (floats). */
function classicInput(series: StepSeries[]): StepSeries[] {
  return series.map(floatSteps).filter((s) => s.has.includes(1));
}

/** A step series' float steps: functions and operators that take no histograms never see them. */
function floatSteps(s: StepSeries): StepSeries {
  const hs = s.hists;
  if (!hs) return s;
  const has = s.has.slice();
  for (let i = 0; i < has.length; i++) if (hs[i]) has[i] = 0;
  return { labels: s.labels, vals: s.vals, has, ...(s.dropName ? { dropName: true } : {}) };
}

function withoutStaleMarkers(d: SeriesData): SeriesData {
  let stale = 0;
  for (let i = 0; i < d.values.length; i++) if (isStaleNaN(d.values[i])) stale++;
  if (stale === 0) return d;
  const ts = new Float64Array(d.timestamps.length - stale);
  const vs = new Float64Array(ts.length);
  const sts = d.startTimestamps ? new Float64Array(ts.length) : undefined;
  const hs = d.histograms ? new Array<FloatHistogram | undefined>(ts.length) : undefined;
  let j = 0;
  for (let i = 0; i < d.values.length; i++) {
    if (isStaleNaN(d.values[i])) continue;
    ts[j] = d.timestamps[i];
    if (sts) sts[j] = (d.startTimestamps as Float64Array)[i];
    if (hs) hs[j] = d.histograms?.[i];
    vs[j++] = d.values[i];
  }
  return {
    labels: d.labels,
    timestamps: ts,
    values: vs,
    ...(sts ? { startTimestamps: sts } : {}),
    ...(hs ? { histograms: hs } : {}),
  };
}

/** The labels of a series whose name an operation drops: now, or (delayed) when the query ends. */
function named(labels: Labels, delayed: boolean): { labels: Labels; dropName?: boolean } {
  return delayed ? { labels, dropName: true } : { labels: dropName(labels) };
}

/** Removes the names marked for removal, then merges what became equal, as a query's last step. */
function finishNames(series: StepSeries[], n: number): StepSeries[] {
  if (!series.some((s) => s.dropName)) return series;
  return mergeSameLabels(
    series.map((s) => (s.dropName ? { ...s, labels: dropName(s.labels), dropName: undefined } : s)),
    n,
  );
}

/**
 * Removes the metric name and, with it, the type and unit metadata labels (`__type__`,
 * `__unit__`) that describe it, as Prometheus drops its reserved metadata labels.
 */
export function dropName(labels: Labels): Labels {
  let found = false;
  for (const l of labels)
    if (l.name === METRIC_NAME || l.name === '__type__' || l.name === '__unit__') found = true;
  if (!found) return labels;
  return labels.filter((l) => l.name !== METRIC_NAME && l.name !== '__type__' && l.name !== '__unit__');
}

/**
 * Series that end up with the same labels (after a name was dropped) become one series when their
 * steps do not overlap; an overlap is the error Prometheus reports.
 */
function mergeSameLabels(series: StepSeries[], n: number): StepSeries[] {
  if (series.length < 2) return series;
  const byKey = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  for (const s of series) {
    const key = labelsKey(s.labels);
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, s);
      out.push(s);
      continue;
    }
    const merged: StepSeries = {
      labels: prev.labels,
      vals: prev.vals.slice(),
      has: prev.has.slice(),
      dropName: prev.dropName,
      ...(prev.hists || s.hists ? { hists: prev.hists?.slice() ?? new Array(n) } : {}),
    };
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      if (merged.has[i]) throw new QueryError('vector cannot contain metrics with the same labelset');
      merged.vals[i] = s.vals[i];
      merged.has[i] = 1;
      if (merged.hists) merged.hists[i] = s.hists?.[i];
    }
    out[out.indexOf(prev)] = merged;
    byKey.set(key, merged);
  }
  return out;
}

function absentOf(arg: Expr, v: EvalValue, n: number): EvalValue {
  const series = v.kind === 'vector' ? v.series : [];
  const vals = new Float64Array(n).fill(1);
  const has = new Uint8Array(n).fill(1);
  for (const s of series) for (let i = 0; i < n; i++) if (s.has[i]) has[i] = 0;
  if (!has.includes(1)) return { kind: 'vector', series: [] };
  // Labels come from the selector's equality matchers, unless a name appears twice.
  let sel: Expr = arg;
  while (sel.type === 'ParenExpr') sel = sel.expr;
  const matchers =
    sel.type === 'VectorSelector' ? sel.matchers : sel.type === 'MatrixSelector' ? sel.vector.matchers : [];
  const b = new LabelsBuilder();
  const seen = new Map<string, number>();
  for (const m of matchers) seen.set(m.name, (seen.get(m.name) ?? 0) + 1);
  for (const m of matchers) {
    if (m.type === '=' && m.name !== METRIC_NAME && seen.get(m.name) === 1) b.set(m.name, m.value);
  }
  return { kind: 'vector', series: [{ labels: b.labels(), vals, has }] };
}

function sortSeries(name: string, series: StepSeries[], byLabels: string[]): EvalValue {
  const out = series.slice();
  if (name === 'sort' || name === 'sort_desc') {
    const desc = name === 'sort_desc';
    out.sort((a, b) => {
      const x = a.vals[0];
      const y = b.vals[0];
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      return desc ? y - x : x - y;
    });
  } else {
    const desc = name === 'sort_by_label_desc';
    const coll = new Intl.Collator('en', { numeric: true });
    out.sort((a, b) => {
      for (const l of byLabels) {
        const c = coll.compare(valueOf(a.labels, l), valueOf(b.labels, l));
        if (c !== 0) return desc ? -c : c;
      }
      const c = compareLabels(a.labels, b.labels);
      return desc ? -c : c;
    });
  }
  return { kind: 'vector', series: out };
}

function valueOf(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

interface BucketGroup {
  labels: Labels;
  name: string;
  buckets: Array<{ le: number; s: StepSeries }>;
}

/** Classic histogram buckets grouped by series without `le` and the name, as upstream groups them. */
function bucketGroups(series: StepSeries[], notes: Annotator): BucketGroup[] {
  const groups = new Map<string, BucketGroup>();
  for (const s of series) {
    const leStr = valueOf(s.labels, 'le');
    const le =
      leStr === '' ? NaN : Number(leStr.replace(/^\+?inf$/i, 'Infinity').replace(/^-inf$/i, '-Infinity'));
    if (Number.isNaN(le)) {
      notes.warn(
        `bucket label "le" is missing or has a malformed value of "${leStr}" for metric name "${valueOf(s.labels, METRIC_NAME)}"`,
      );
      continue;
    }
    const ls = dropName(s.labels).filter((l) => l.name !== 'le');
    // The name is part of the group, so two histograms with equal labels are not merged.
    const key = `${valueOf(s.labels, METRIC_NAME)}\u0000${labelsKey(ls)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels: ls, name: valueOf(s.labels, METRIC_NAME), buckets: [] }));
    g.buckets.push({ le, s });
  }
  return [...groups.values()];
}

/** One value per group and step from the buckets present at that step. */
function perBucketGroup(
  groups: BucketGroup[],
  n: number,
  fn: (g: BucketGroup, i: number, buckets: Array<{ upper: number; count: number }>) => number,
  labels: (g: BucketGroup) => Labels = (g) => g.labels,
): StepSeries[] {
  const out: StepSeries[] = [];
  for (const g of groups) {
    const vals = new Float64Array(n);
    const has = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const bs = g.buckets.filter((b) => b.s.has[i]).map((b) => ({ upper: b.le, count: b.s.vals[i] }));
      if (bs.length === 0) continue;
      vals[i] = fn(g, i, bs);
      has[i] = 1;
    }
    if (has.includes(1)) out.push({ labels: labels(g), vals, has });
  }
  const seen = new Set<string>();
  for (const s of out) {
    const key = labelsKey(s.labels);
    if (seen.has(key)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
  return out;
}

function histogramQuantile(
  q: Float64Array,
  groups: BucketGroup[],
  n: number,
  notes: Annotator,
): StepSeries[] {
  return perBucketGroup(groups, n, (g, i, bs) => {
    const r = bucketQuantile(q[i], bs);
    if (r.fixedMonotonicity) {
      notes.info(
        `input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name "${g.name}"`,
      );
    }
    return r.value;
  });
}

function groupLabels(labels: Labels, grouping: ReadonlySet<string>, without: boolean): Labels {
  const out: Label[] = [];
  for (const l of labels) {
    if (without) {
      if (l.name !== METRIC_NAME && !grouping.has(l.name)) out.push(l);
    } else if (grouping.has(l.name)) out.push(l);
  }
  return out;
}

const HISTOGRAM_AGGREGATIONS = new Set(['sum', 'avg', 'count', 'group', 'limitk', 'limit_ratio']);

/**
 * sum or avg at step i of members that hold histograms: the histogram result, undefined where
 * floats and histograms meet or schemas cannot be combined, 'floats' where only floats are.
 */
function aggregateHistogramStep(
  op: 'sum' | 'avg' | string,
  members: StepSeries[],
  i: number,
  hn: HistogramNotes,
): FloatHistogram | undefined | 'floats' {
  const hs: FloatHistogram[] = [];
  let floats = 0;
  for (const m of members) {
    if (!m.has[i]) continue;
    const h = m.hists?.[i];
    if (h) hs.push(h);
    else floats++;
  }
  if (hs.length === 0) return 'floats';
  if (floats > 0) {
    hn.mixed = true;
    return undefined;
  }
  const sum = sumHistograms(hs, hn);
  if (!sum) return undefined;
  return op === 'avg' ? sum.div(hs.length) : sum;
}

function aggregateStep(
  op: AggregateExpr['op'],
  members: StepSeries[],
  i: number,
  param: number,
): number | undefined {
  let count = 0;
  switch (op) {
    case 'sum': {
      const k = new KahanSum();
      for (const s of members) {
        if (!s.has[i]) continue;
        k.add(s.vals[i]);
        count++;
      }
      return count > 0 ? k.value() : undefined;
    }
    case 'avg': {
      const m = new MeanAccumulator();
      for (const s of members) if (s.has[i]) m.add(s.vals[i]);
      return m.count > 0 ? m.value() : undefined;
    }
    case 'count':
      for (const s of members) if (s.has[i]) count++;
      return count > 0 ? count : undefined;
    case 'group':
      for (const s of members) if (s.has[i]) return 1;
      return undefined;
    case 'min':
    case 'max': {
      let r: number | undefined;
      for (const s of members) {
        if (!s.has[i]) continue;
        const v = s.vals[i];
        if (r === undefined || Number.isNaN(r) || (op === 'min' ? v < r : v > r)) r = v;
      }
      return r;
    }
    case 'stddev':
    case 'stdvar': {
      let mean = 0;
      let m2 = 0;
      for (const s of members) {
        if (!s.has[i]) continue;
        count++;
        const d = s.vals[i] - mean;
        mean += d / count;
        m2 += d * (s.vals[i] - mean);
      }
      if (count === 0) return undefined;
      const variance = m2 / count;
      return op === 'stddev' ? Math.sqrt(variance) : variance;
    }
    case 'quantile': {
      const vals: number[] = [];
      for (const s of members) if (s.has[i]) vals.push(s.vals[i]);
      return vals.length > 0 ? quantile(param, vals) : undefined;
    }
    default:
      return undefined;
  }
}

function topk(
  top: boolean,
  groups: Map<string, { labels: Labels; members: StepSeries[] }>,
  param: Float64Array,
  n: number,
): StepSeries[] {
  const picked = new Map<StepSeries, StepSeries>();
  for (const g of groups.values()) {
    for (let i = 0; i < n; i++) {
      const k = param[i];
      if (Number.isNaN(k)) throw new QueryError(`Parameter value is NaN`);
      const kk = Math.min(Math.floor(k), g.members.length);
      if (kk < 1) continue;
      const present = g.members.filter((s) => s.has[i]);
      present.sort((a, b) => {
        const x = a.vals[i];
        const y = b.vals[i];
        if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
        if (Number.isNaN(y)) return -1;
        return top ? y - x : x - y;
      });
      for (const s of present.slice(0, kk)) pickStep(picked, s, i, n);
    }
  }
  return [...picked.values()];
}

/** Copies step i of a series into its selected copy (topk, bottomk, limitk), made on first use. */
function pickStep(picked: Map<StepSeries, StepSeries>, s: StepSeries, i: number, n: number): void {
  let o = picked.get(s);
  if (!o) {
    o = { labels: s.labels, vals: new Float64Array(n), has: new Uint8Array(n), dropName: s.dropName };
    picked.set(s, o);
  }
  o.vals[i] = s.vals[i];
  o.has[i] = 1;
}

/** The first k series of each group present at a step, in input order, unsorted: limitk. */
function limitk(
  groups: Map<string, { labels: Labels; members: StepSeries[] }>,
  param: Float64Array,
  n: number,
) {
  const picked = new Map<StepSeries, StepSeries>();
  for (const g of groups.values()) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(param[i]);
      let taken = 0;
      for (const s of g.members) {
        if (taken >= k) break;
        if (!s.has[i]) continue;
        pickStep(picked, s, i, n);
        taken++;
      }
    }
  }
  return [...picked.values()];
}

/**
 * limit_ratio: a series is kept when its place in the hash space, Prometheus' labels.Hash() over
 * 2^64, is below the ratio (or, for a negative ratio, at or above 1 + ratio), so r and r - 1
 * pick complementary sets and the choice is the same in Prometheus.
 */
function limitRatio(series: StepSeries[], param: Float64Array, n: number, notes: Annotator): StepSeries[] {
  const out: StepSeries[] = [];
  const ratios = Float64Array.from(param, (r) => {
    if (r >= -1 && r <= 1) return r;
    const capped = r < -1 ? -1 : 1;
    notes.warn(`ratio value should be between -1 and 1, got ${formatG(r)}, capping to ${formatG(capped)}`);
    return capped;
  });
  for (const s of series) {
    const offset = Number(prometheusLabelsHash(s.labels)) / 2 ** 64;
    const o: StepSeries = {
      labels: s.labels,
      vals: new Float64Array(n),
      has: new Uint8Array(n),
      dropName: s.dropName,
    };
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      const r = ratios[i];
      if (r >= 0 ? offset < r : offset >= 1 + r) {
        o.vals[i] = s.vals[i];
        o.has[i] = 1;
        any = true;
      }
    }
    if (any) out.push(o);
  }
  return out;
}

function formatCountValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

/** Applies a binary operator; the second result says whether a comparison held. */
function binop(op: BinaryExpr['op'], l: number, r: number): [number, boolean] {
  switch (op) {
    case '</':
    case '>/':
      throw new QueryError(`operator "${op}" is only defined for native histograms`);
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '%':
      return [goMod(l, r), true];
    case '^':
      return [Math.pow(l, r), true];
    case 'atan2':
      return [Math.atan2(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
    default:
      throw new QueryError(`operator "${op}" not allowed here`);
  }
}

/** Go's math.Mod: the result has the sign of the dividend (same as JS %). */
function goMod(l: number, r: number): number {
  return l % r;
}

function vectorScalar(
  e: BinaryExpr,
  series: StepSeries[],
  scalar: Float64Array,
  scalarLeft: boolean,
  n: number,
  delayed: boolean,
  hn: HistogramNotes,
): EvalValue {
  const isCmp = COMPARISON_OPS.has(e.op);
  const out: StepSeries[] = [];
  for (const s of series) {
    const vals = new Float64Array(n);
    const has = new Uint8Array(n);
    let hists: Array<FloatHistogram | undefined> | undefined;
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.has[i]) continue;
      const h = s.hists?.[i];
      if (h) {
        // A histogram compared with a number has no result.
        if (isCmp) continue;
        const r = scalarLeft
          ? histogramBinop(e.op, scalar[i], undefined, 0, h, hn)
          : histogramBinop(e.op, 0, h, scalar[i], undefined, hn);
        if (!r) continue;
        (hists ??= new Array<FloatHistogram | undefined>(n))[i] = r.h;
        has[i] = 1;
        any = true;
        continue;
      }
      const [l, r] = scalarLeft ? [scalar[i], s.vals[i]] : [s.vals[i], scalar[i]];
      const [v, keep] = binop(e.op, l, r);
      if (isCmp) {
        if (e.returnBool) vals[i] = keep ? 1 : 0;
        else if (keep) vals[i] = s.vals[i];
        else continue;
      } else vals[i] = v;
      has[i] = 1;
      any = true;
    }
    if (any) {
      const labels =
        !isCmp || e.returnBool ? named(s.labels, delayed) : { labels: s.labels, dropName: s.dropName };
      out.push({ ...labels, vals, has, ...(hists ? { hists } : {}) });
    }
  }
  return { kind: 'vector', series: mergeSameLabels(out, n) };
}

function signature(labels: Labels, m: VectorMatching): string {
  const names = new Set(m.matchingLabels);
  let s = '';
  for (const l of labels) {
    const inSet = names.has(l.name);
    if (m.on ? inSet : !inSet && l.name !== METRIC_NAME)
      s += `${l.name.length}:${l.name}${l.value.length}:${l.value}`;
  }
  return s;
}

function setOp(
  op: 'and' | 'or' | 'unless',
  lhs: StepSeries[],
  rhs: StepSeries[],
  m: VectorMatching,
  n: number,
): EvalValue {
  const rhsBySig = new Map<string, StepSeries[]>();
  for (const s of rhs) {
    const k = signature(s.labels, m);
    const l = rhsBySig.get(k);
    if (l) l.push(s);
    else rhsBySig.set(k, [s]);
  }
  const presentAt = (list: StepSeries[] | undefined, i: number) =>
    list !== undefined && list.some((s) => s.has[i]);
  if (op === 'and' || op === 'unless') {
    const out: StepSeries[] = [];
    for (const s of lhs) {
      const others = rhsBySig.get(signature(s.labels, m));
      const has = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (s.has[i] && presentAt(others, i) === (op === 'and')) {
          has[i] = 1;
          any = true;
        }
      }
      if (any) out.push({ ...s, has });
    }
    return { kind: 'vector', series: out };
  }
  const lhsBySig = new Map<string, StepSeries[]>();
  for (const s of lhs) {
    const k = signature(s.labels, m);
    const l = lhsBySig.get(k);
    if (l) l.push(s);
    else lhsBySig.set(k, [s]);
  }
  const out: StepSeries[] = lhs.slice();
  for (const s of rhs) {
    const others = lhsBySig.get(signature(s.labels, m));
    const has = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (s.has[i] && !presentAt(others, i)) {
        has[i] = 1;
        any = true;
      }
    }
    if (any) out.push({ ...s, has });
  }
  // The name-dropped sides of an `or` may carry equal labels: merged where they do not overlap.
  return { kind: 'vector', series: mergeSameLabels(out, n) };
}

function vectorVector(
  e: BinaryExpr,
  lhs: StepSeries[],
  rhs: StepSeries[],
  m: VectorMatching,
  n: number,
  delayed: boolean,
  hn: HistogramNotes,
): EvalValue {
  const isCmp = COMPARISON_OPS.has(e.op);
  // The "one" side is looked up by signature; with group_right the sides swap roles.
  const swapped = m.card === 'one-to-many';
  const many = swapped ? rhs : lhs;
  const one = swapped ? lhs : rhs;
  const oneBySig = new Map<string, StepSeries[]>();
  for (const s of one) {
    const k = signature(s.labels, m);
    const l = oneBySig.get(k);
    if (l) l.push(s);
    else oneBySig.set(k, [s]);
  }
  const dropsName = !isCmp || e.returnBool;
  // Delayed removal keeps the name and marks it; a filtering comparison keeps the left side's mark.
  const keepFlag = (ms: StepSeries) => (delayed && dropsName) || ms.dropName === true;
  const outByKey = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  const usedOne = new Map<string, Map<number, number>>();
  // fill_left stands in for the "many" side (the left, or with group_right the right), fill_right
  // for the "one" side, as Prometheus applies them after swapping for group_right.
  const fillMany = e.fill?.left;
  const fillOne = e.fill?.right;
  const manyPresent = fillMany !== undefined ? new Map<string, Uint8Array>() : undefined;
  const emit = (
    labels: Labels,
    i: number,
    manyVal: number,
    oneVal: number,
    flag?: boolean,
    manyH?: FloatHistogram,
    oneH?: FloatHistogram,
  ): void => {
    const [l, r] = swapped ? [oneVal, manyVal] : [manyVal, oneVal];
    let value: number;
    let hist: FloatHistogram | undefined;
    if (manyH || oneH) {
      const [lh, rh] = swapped ? [oneH, manyH] : [manyH, oneH];
      const res = histogramBinop(e.op, l, lh, r, rh, hn);
      if (!res) return;
      if (isCmp) {
        if (e.returnBool) value = res.keep ? 1 : 0;
        else if (!res.keep) return;
        else {
          value = 0;
          hist = manyH;
        }
      } else {
        value = 0;
        hist = res.h;
      }
    } else {
      const [v, keep] = binop(e.op, l, r);
      value = v;
      if (isCmp) {
        if (e.returnBool) value = keep ? 1 : 0;
        else if (!keep) return;
      }
    }
    const key = labelsKey(labels);
    let o = outByKey.get(key);
    if (!o) {
      o = { labels, vals: new Float64Array(n), has: new Uint8Array(n), ...(flag ? { dropName: true } : {}) };
      outByKey.set(key, o);
      out.push(o);
    } else if (o.has[i]) {
      throw new QueryError('multiple matches for labels: grouping labels must ensure unique matches');
    }
    o.vals[i] = value;
    o.has[i] = 1;
    if (hist) (o.hists ??= new Array<FloatHistogram | undefined>(n))[i] = hist;
  };
  for (const ms of many) {
    const sig = signature(ms.labels, m);
    const candidates = oneBySig.get(sig);
    if (manyPresent) {
      let p = manyPresent.get(sig);
      if (!p) manyPresent.set(sig, (p = new Uint8Array(n)));
      for (let i = 0; i < n; i++) if (ms.has[i]) p[i] = 1;
    }
    if (!candidates && fillOne === undefined) continue;
    for (let i = 0; i < n; i++) {
      if (!ms.has[i]) continue;
      let os: StepSeries | undefined;
      for (const c of candidates ?? []) {
        if (!c.has[i]) continue;
        if (os !== undefined) {
          throw new QueryError(
            `found duplicate series for the match group ${describeSig(c.labels, m)} on the ${swapped ? 'left' : 'right'} hand-side of the operation: [${fmt(os.labels)}, ${fmt(c.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
          );
        }
        os = c;
      }
      if (os === undefined) {
        // The joined labels of group_x cannot be filled: they come from the missing series.
        if (fillOne !== undefined) {
          emit(resultLabels(ms.labels, [], m, dropsName && !delayed), i, ms.vals[i], fillOne, keepFlag(ms));
        }
        continue;
      }
      if (m.card === 'one-to-one') {
        let seen = usedOne.get(sig);
        if (!seen) usedOne.set(sig, (seen = new Map()));
        if (seen.has(i)) {
          throw new QueryError(
            `found duplicate series for the match group ${describeSig(ms.labels, m)} on the left hand-side of the operation: [${fmt(ms.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
          );
        }
        seen.set(i, 1);
      }
      emit(
        resultLabels(ms.labels, os.labels, m, dropsName && !delayed),
        i,
        ms.vals[i],
        os.vals[i],
        keepFlag(ms),
        ms.hists?.[i],
        os.hists?.[i],
      );
    }
  }
  if (manyPresent && fillMany !== undefined) {
    for (const os of one) {
      const sig = signature(os.labels, m);
      const present = manyPresent.get(sig);
      const labels = signatureLabels(os.labels, m);
      for (let i = 0; i < n; i++) {
        if (os.has[i] && !(present && present[i])) emit(labels, i, fillMany, os.vals[i]);
      }
    }
  }
  return { kind: 'vector', series: out };
}

/** The labels a match group is identified by: the `on` labels, or all but `ignoring` and the name. */
function signatureLabels(labels: Labels, m: VectorMatching): Labels {
  if (m.on) {
    const keep = new Set(m.matchingLabels);
    return labels.filter((l) => keep.has(l.name));
  }
  const drop = new Set([...m.matchingLabels, METRIC_NAME]);
  return labels.filter((l) => !drop.has(l.name));
}

function resultLabels(manyLabels: Labels, oneLabels: Labels, m: VectorMatching, dropsName: boolean): Labels {
  const b = new LabelsBuilder(manyLabels);
  if (dropsName) b.del(METRIC_NAME);
  if (m.card === 'one-to-one') {
    if (m.on) b.keep(new Set(m.matchingLabels));
    else b.del(...m.matchingLabels);
  }
  for (const name of m.include) {
    const v = valueOf(oneLabels, name);
    b.set(name, v);
  }
  return b.labels();
}

function describeSig(labels: Labels, m: VectorMatching): string {
  const names = new Set(m.matchingLabels);
  const parts = labels.filter((l) =>
    m.on ? names.has(l.name) : !names.has(l.name) && l.name !== METRIC_NAME,
  );
  return `{${parts.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

function fmt(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/** The PromQL engine: parses, evaluates against a Queryable and shapes the result. */
/** A result series: its float points, and its histogram points apart, as the API reports them. */
/** The steps where a step series has a value, as samples. */
function stepsToSamples(
  s: StepSeries,
  times: Float64Array,
): { timestamps: Float64Array; values: Float64Array; histograms?: Array<FloatHistogram | undefined> } {
  const n = times.length;
  let count = 0;
  for (let i = 0; i < n; i++) if (s.has[i]) count++;
  const timestamps = new Float64Array(count);
  const values = new Float64Array(count);
  const histograms = s.hists ? new Array<FloatHistogram | undefined>(count) : undefined;
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (!s.has[i]) continue;
    timestamps[j] = times[i];
    if (histograms) histograms[j] = s.hists?.[i];
    values[j++] = s.vals[i];
  }
  return { timestamps, values, ...(histograms ? { histograms } : {}) };
}

/** A step series as the points of a range result. */
function stepsToRange(s: StepSeries, times: Float64Array): RangeSeries {
  const { timestamps, values, histograms } = stepsToSamples(s, times);
  return splitHistogramPoints(s.labels, timestamps, values, histograms);
}

function splitHistogramPoints(
  labels: Labels,
  ts: Float64Array,
  vs: Float64Array,
  hs: ReadonlyArray<FloatHistogram | undefined> | undefined,
): RangeSeries {
  if (!hs || !hs.some((h) => h)) return { labels, timestamps: ts, values: vs };
  const fts: number[] = [];
  const fvs: number[] = [];
  const histograms: Array<{ t: number; h: FloatHistogram }> = [];
  for (let i = 0; i < ts.length; i++) {
    const h = hs[i];
    if (h) histograms.push({ t: ts[i], h });
    else {
      fts.push(ts[i]);
      fvs.push(vs[i]);
    }
  }
  return { labels, timestamps: Float64Array.from(fts), values: Float64Array.from(fvs), histograms };
}

export class Engine {
  readonly opts: EngineOptions;

  constructor(opts: Partial<EngineOptions> = {}) {
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...opts };
  }

  async instantQuery(
    q: Queryable,
    query: string | Expr,
    time: number,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    const parsed = typeof query === 'string' ? parseExpr(query) : query;
    const expr = resolveDurations(parsed, { step: 0, range: 0 });
    const f: Frame = {
      start: time,
      end: time,
      step: 1,
      n: 1,
      queryStart: time,
      queryEnd: time,
      queryStep: 0,
    };
    const ev = new Evaluation(q, this.opts, signal);
    const raw = await ev.eval(expr, f);
    const v = raw.kind === 'vector' ? { ...raw, series: finishNames(raw.series, f.n) } : raw;
    const annotations = ev.notes.annotations;
    const stats = ev.stats;
    switch (v.kind) {
      case 'scalar':
        return { resultType: 'scalar', t: time, v: v.vals[0], annotations, stats };
      case 'string':
        return { resultType: 'string', t: time, v: v.value, annotations, stats };
      case 'vector':
        return {
          resultType: 'vector',
          result: v.series
            .filter((s) => s.has[0])
            .map((s) => {
              const h = s.hists?.[0];
              return h ? { labels: s.labels, t: time, v: 0, h } : { labels: s.labels, t: time, v: s.vals[0] };
            }),
          annotations,
          stats,
        };
      case 'matrix': {
        const { offset, at } = windowShift(expr, v);
        const end = (at ?? time) - offset;
        const start = end - v.range;
        const result = v.series
          .map((s) => {
            let lo = 0;
            while (lo < s.timestamps.length && s.timestamps[lo] <= start) lo++;
            let hi = lo;
            while (hi < s.timestamps.length && s.timestamps[hi] <= end) hi++;
            return splitHistogramPoints(
              s.labels,
              s.timestamps.slice(lo, hi),
              s.values.slice(lo, hi),
              s.histograms?.slice(lo, hi),
            );
          })
          .filter((s) => s.timestamps.length > 0 || (s.histograms?.length ?? 0) > 0);
        return { resultType: 'matrix', result, annotations, stats };
      }
    }
  }

  async rangeQuery(
    q: Queryable,
    query: string | Expr,
    start: number,
    end: number,
    step: number,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    const parsed = typeof query === 'string' ? parseExpr(query) : query;
    const expr = resolveDurations(parsed, { step: step / 1000, range: (end - start) / 1000 });
    const t = typeOf(expr);
    if (t !== 'scalar' && t !== 'vector') {
      throw new QueryError(
        `invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`,
      );
    }
    const n = Math.floor((end - start) / step) + 1;
    const f: Frame = { start, end, step, n, queryStart: start, queryEnd: end, queryStep: step };
    const ev = new Evaluation(q, this.opts, signal);
    const raw = await ev.eval(expr, f);
    const v = raw.kind === 'vector' ? { ...raw, series: finishNames(raw.series, f.n) } : raw;
    const times = frameTimes(f);
    const series =
      v.kind === 'scalar'
        ? [{ labels: [] as Labels, vals: v.vals, has: new Uint8Array(n).fill(1) }]
        : v.kind === 'vector'
          ? v.series
          : [];
    // The answer is computed: encoding it finishes, in slices, whatever the signal says now.
    const slice = new TimeSlice();
    const points: RangeSeries[] = [];
    for (const s of series) {
      if (slice.due()) await slice.pause();
      points.push(stepsToRange(s, times));
    }
    const result = await sortSliced(
      points.filter((s) => s.timestamps.length > 0 || (s.histograms?.length ?? 0) > 0),
      (a, b) => compareLabels(a.labels, b.labels),
      slice,
    );
    return { resultType: 'matrix', result, annotations: ev.notes.annotations, stats: ev.stats };
  }
}
