import type { FloatHistogram, Labels } from '@pharos/model';
import type { SeriesData } from '@pharos/tsdb';

/** A series evaluated at every step of a query: `has[i]` says whether step i has a value. */
export interface StepSeries {
  labels: Labels;
  readonly vals: Float64Array;
  readonly has: Uint8Array;
  /** Set when the metric name is to be dropped from the output. */
  dropName?: boolean;
  /** Native histogram values: where `hists[i]` is set, step i holds it instead of vals[i]. */
  hists?: Array<FloatHistogram | undefined>;
}

export type EvalValue =
  | { readonly kind: 'vector'; readonly series: StepSeries[] }
  | { readonly kind: 'scalar'; readonly vals: Float64Array }
  | { readonly kind: 'string'; readonly value: string }
  | {
      readonly kind: 'matrix';
      readonly series: SeriesData[];
      readonly range: number;
      /** For subqueries: the offset and fixed time their frame was shifted by. */
      readonly shift?: { readonly offset: number; readonly at: number | null };
      /** anchored/smoothed ranges carry samples up to a lookback delta outside the window. */
      readonly extended?: 'anchored' | 'smoothed';
    };

/** Errors raised while evaluating (not parsing): reported as `execution` by the HTTP API. */
export class QueryError extends Error {
  constructor(
    message: string,
    readonly kind:
      'execution' | 'timeout' | 'canceled' | 'too_many_samples' | 'too_many_series' = 'execution',
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export interface InstantSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  /** Set for a native histogram sample (v is then 0). */
  readonly h?: FloatHistogram;
}

export interface RangeSeries {
  readonly labels: Labels;
  /** The float points; histogram points are in `histograms`. */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly histograms?: ReadonlyArray<{ readonly t: number; readonly h: FloatHistogram }>;
}

/** Warnings and infos a query produced, in Prometheus' wording ("PromQL warning: ..."). */
export interface Annotations {
  readonly warnings: readonly string[];
  readonly infos: readonly string[];
}

export type QueryResult = (
  | { readonly resultType: 'vector'; readonly result: InstantSample[] }
  | { readonly resultType: 'matrix'; readonly result: RangeSeries[] }
  | { readonly resultType: 'scalar'; readonly t: number; readonly v: number }
  | { readonly resultType: 'string'; readonly t: number; readonly v: string }
) & { readonly annotations: Annotations; readonly stats: QueryStats };

/** What the `stats` parameter of the query API reports. */
export interface QueryStats {
  /** Samples loaded from storage for the query. */
  readonly totalQueryableSamples: number;
  readonly evalMs: number;
}

/** Collects a query's annotations, each once. */
export class Annotator {
  private readonly w = new Set<string>();
  private readonly i = new Set<string>();

  warn(message: string): void {
    this.w.add(`PromQL warning: ${message}`);
  }

  info(message: string): void {
    this.i.add(`PromQL info: ${message}`);
  }

  get annotations(): Annotations {
    return { warnings: [...this.w], infos: [...this.i] };
  }
}

/** Go's %g for the values annotations quote. */
export function formatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
