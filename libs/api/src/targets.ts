import { formatDuration } from '@pharos/config';
import type { LabelMatcher, Labels } from '@pharos/model';
import { parseMetricSelector } from '@pharos/promql';
import type { ScrapeManager } from '@pharos/scrape';
import { badData } from './errors.js';
import { labelsToObject } from './json.js';
import type { Params } from './params.js';

/** Go's zero time, which upstream shows for a target not scraped yet. */
const NEVER = '0001-01-01T00:00:00Z';

/** GET /api/v1/targets: active and dropped targets, filtered by `state` and `scrapePool`. */
export function targetsJSON(
  scrape: ScrapeManager | undefined,
  allDropped: ReadonlyArray<{ readonly scrapePool: string; readonly discoveredLabels: Labels }>,
  p: Params,
): string {
  const state = (p.get('state') ?? 'any').toLowerCase();
  const pools = new Set(p.getAll('scrapePool'));
  const inPool = (name: string) => pools.size === 0 || pools.has(name);
  const active =
    state === 'dropped'
      ? []
      : (scrape?.activeTargets() ?? [])
          .filter((t) => inPool(t.pool))
          .map(({ pool, loop }) => ({
            discoveredLabels: labelsToObject(loop.target.discoveredLabels),
            labels: labelsToObject(loop.target.publicLabels),
            scrapePool: pool,
            scrapeUrl: loop.target.url,
            globalUrl: loop.target.url,
            lastError: loop.status.lastError,
            lastScrape: loop.status.lastScrape ? new Date(loop.status.lastScrape).toISOString() : NEVER,
            lastScrapeDuration: loop.status.lastScrapeDuration,
            health: loop.status.health,
            scrapeInterval: formatDuration(loop.target.interval),
            scrapeTimeout: formatDuration(loop.target.timeout),
          }));
  const dropped =
    state === 'active'
      ? []
      : allDropped
          .filter((t) => inPool(t.scrapePool))
          .map((t) => ({ discoveredLabels: labelsToObject(t.discoveredLabels), scrapePool: t.scrapePool }));
  const counts: Record<string, number> = {};
  for (const name of scrape?.poolNames() ?? []) counts[name] = 0;
  for (const t of allDropped) counts[t.scrapePool] = (counts[t.scrapePool] ?? 0) + 1;
  return JSON.stringify({ activeTargets: active, droppedTargets: dropped, droppedTargetCounts: counts });
}

/**
 * GET /api/v1/targets/metadata: metric metadata per target. `match_target` selects targets by
 * their labels; with `metric` the entries leave the metric name out, as upstream.
 */
export function targetsMetadataJSON(scrape: ScrapeManager | undefined, p: Params): string {
  const metric = p.get('metric');
  const limit = p.limit();
  let matchers: LabelMatcher[] = [];
  const matchTarget = p.get('match_target');
  if (matchTarget !== undefined && matchTarget !== '') {
    try {
      matchers = parseMetricSelector(matchTarget);
    } catch (e) {
      throw badData((e as Error).message);
    }
  }
  const out: Array<Record<string, unknown>> = [];
  let targets = 0;
  for (const { loop } of scrape?.activeTargets() ?? []) {
    const labels = loop.target.publicLabels;
    const value = (name: string) => labels.find((l) => l.name === name)?.value ?? '';
    if (!matchers.every((m) => m.matches(value(m.name)))) continue;
    if (limit > 0 && targets >= limit) break;
    targets++;
    const target = labelsToObject(labels);
    if (metric !== undefined && metric !== '') {
      const m = loop.metadata.get(metric);
      if (m) out.push({ target, type: m.type, help: m.help, unit: m.unit });
      continue;
    }
    for (const [name, m] of loop.metadata)
      out.push({ target, metric: name, type: m.type, help: m.help, unit: m.unit });
  }
  return JSON.stringify(out);
}

/** GET /api/v1/metadata: distinct metadata per metric name over every target. */
export function metadataJSON(scrape: ScrapeManager | undefined, p: Params): string {
  const metric = p.get('metric');
  const limit = p.limit();
  const limitPerMetric = Number(p.get('limit_per_metric') ?? '0');
  const out: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
  for (const { loop } of scrape?.activeTargets() ?? []) {
    for (const [name, m] of loop.metadata) {
      if (metric !== undefined && metric !== '' && metric !== name) continue;
      const list = (out[name] ??= []);
      if (limitPerMetric > 0 && list.length >= limitPerMetric) continue;
      if (!list.some((x) => x.type === m.type && x.help === m.help && x.unit === m.unit)) list.push({ ...m });
    }
  }
  const names = Object.keys(out).sort();
  const limited = limit > 0 ? names.slice(0, limit) : names;
  return JSON.stringify(Object.fromEntries(limited.map((n) => [n, out[n]])));
}
