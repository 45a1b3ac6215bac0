import { Option } from 'commander';
import { parseDuration } from '@pharos/config';
import { flagArg } from '@pharos/observability';
import type { EngineOptions } from '@pharos/promql';

/** The query flags of the all-in-one, the querier and the ruler: one definition, one default. */
export interface QueryFlags {
  readonly lookbackDelta: number;
  readonly timeout: number;
  readonly maxSamples: number;
  /** 0: no limit. */
  readonly maxSeries: number;
  readonly maxConcurrency: number;
  /** --enable-feature values, as Prometheus takes them (comma-separated, repeatable). */
  readonly features: ReadonlySet<string>;
}

/**
 * The --enable-feature values that change behaviour (Pharos always has the experimental PromQL
 * functions); any other is warned about, as Prometheus does.
 */
export const KNOWN_FEATURES: ReadonlySet<string> = new Set(['promql-delayed-name-removal']);

export function queryOptions(): Option[] {
  return [
    new Option(
      '--query.lookback-delta <duration>',
      'How far back to look for a sample in an instant selector.',
    )
      .default('5m')
      .argParser(flagArg.duration),
    new Option('--query.timeout <duration>', 'Maximum time a query may take before being aborted.')
      .default('2m')
      .argParser(flagArg.duration),
    new Option('--query.max-samples <n>', 'Maximum number of samples a single query can load into memory.')
      .default('50000000')
      .argParser(flagArg.int(1)),
    new Option(
      '--query.max-series <n>',
      'Maximum number of series a single query may select; 0 for no limit.',
    )
      .default('0')
      .argParser(flagArg.int(0)),
    new Option('--query.max-concurrency <n>', 'Maximum number of queries executed concurrently.')
      .default('20')
      .argParser(flagArg.int(1)),
    new Option(
      '--enable-feature <name>',
      `Comma separated feature names to enable. Valid options: ${[...KNOWN_FEATURES].join(', ')}.`,
    ).argParser((v: string, prev: string | undefined) => (prev ? `${prev},${v}` : v)),
  ];
}

export function parseQueryFlags(opts: Readonly<Record<string, string | boolean | undefined>>): QueryFlags {
  return {
    lookbackDelta: parseDuration(String(opts['query.lookback-delta'])),
    timeout: parseDuration(String(opts['query.timeout'])),
    maxSamples: Number(opts['query.max-samples']),
    maxSeries: Number(opts['query.max-series']),
    maxConcurrency: Number(opts['query.max-concurrency']),
    features: new Set(
      String(opts['enable-feature'] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    ),
  };
}

/** The engine both modes build from the same flags. */
export function engineOptions(q: QueryFlags): Partial<EngineOptions> {
  return {
    lookbackDelta: q.lookbackDelta,
    timeout: q.timeout,
    maxSamples: q.maxSamples,
    maxSeries: q.maxSeries,
    delayedNameRemoval: q.features.has('promql-delayed-name-removal'),
  };
}

/** The features given that Pharos does not know, to warn about once at start. */
export function unknownFeatures(q: QueryFlags): string[] {
  return [...q.features].filter((f) => !KNOWN_FEATURES.has(f));
}
