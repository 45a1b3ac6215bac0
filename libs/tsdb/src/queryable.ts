import type { FloatHistogram, LabelMatcher, Labels } from '@pharos/model';

/** One series' samples in a time range, as parallel arrays in timestamp order. */
export interface SeriesData {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /**
   * Each sample's start time (the created timestamp of its counter or delta), 0 where unknown.
   * Absent when the storage holds none for the series.
   */
  readonly startTimestamps?: Float64Array;
  /**
   * Native histogram samples: where `histograms[i]` is set, sample i is that histogram and
   * `values[i]` is unused. Absent when the series holds only floats. Readers must not mutate them.
   */
  readonly histograms?: ReadonlyArray<FloatHistogram | undefined>;
}

/**
 * What the querier needs from storage. An ingester implements it locally; a gRPC client
 * implements it for remote shards; a fan-out merges several.
 */
export interface Queryable {
  /**
   * `signal` is the request's: once it aborts, the read stops and rejects with its reason, so
   * a timed-out query does not go on reading (and a remote store is told to stop).
   */
  select(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<SeriesData[]>;
  series(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Labels[]>;
  labelNames(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]>;
  labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<string[]>;
}

/** Label names or values from several stores: each once, sorted. */
export function sortedUnion(lists: readonly string[][]): string[] {
  if (lists.length === 1) return lists[0];
  return [...new Set(lists.flat())].sort();
}
