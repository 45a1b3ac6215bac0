import { LabelMatcher, labelsHash, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import type { Engine } from '@pharos/promql';
import type { Queryable } from '@pharos/tsdb';
import type { ForStateQuery } from './group.js';
import type { RuleQuery, RuleSample } from './rules.js';

/** Runs a query under --query.max-concurrency and the query timeout (the API's QueryLimiter). */
export interface RuleQueryLimiter {
  run<T>(requestedMs: number | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/**
 * Rule queries on a local engine: a vector as is, a scalar as one unlabelled sample (upstream's
 * EngineQueryFunc). With a limiter, rules take query slots and the timeout as Prometheus' rule
 * queries do, the engine being one for rules and the API.
 */
export function engineRuleQuery(engine: Engine, queryable: Queryable, limiter?: RuleQueryLimiter): RuleQuery {
  return async (expr, ts) => {
    const r = limiter
      ? await limiter.run(undefined, (signal) => engine.instantQuery(queryable, expr, ts, signal))
      : await engine.instantQuery(queryable, expr, ts);
    switch (r.resultType) {
      case 'vector':
        return r.result.map((s) =>
          s.h ? { labels: s.labels, t: ts, v: s.v, h: s.h } : { labels: s.labels, t: ts, v: s.v },
        );
      case 'scalar':
        return [{ labels: [], t: ts, v: r.v }];
      default:
        throw new Error('rule result is not a vector or scalar');
    }
  };
}

/** The last sample of each ALERTS_FOR_STATE series matching exactly, from storage. */
export function storageForStateQuery(queryable: Queryable): ForStateQuery {
  return async (labels, mint, maxt) => {
    const matchers = labels.map((l) => new LabelMatcher('=', l.name, l.value));
    const series = await queryable.select(matchers, mint + 1, maxt);
    return series
      .filter((s) => s.timestamps.length > 0)
      .map((s) => {
        const i = s.timestamps.length - 1;
        return { labels: s.labels, t: s.timestamps[i], v: s.values[i] };
      });
  };
}

/** Rule results as a sample batch for the write path (float samples; histograms are not stored yet). */
export function ruleSamplesToBatch(samples: readonly RuleSample[]): SampleBatch {
  const b = new SampleBatchBuilder(samples.length);
  for (const s of samples) if (!s.h) b.push(s.labels, s.t, s.v, labelsHash(s.labels));
  return b.build();
}
