import { formatDuration, parseDuration, type ScrapeConfig } from '@pharos/config';
import { labelsFrom, LabelsBuilder, labelsHash, type Label, type Labels } from '@pharos/model';
import type { TargetGroup } from '@pharos/discovery';
import { relabel } from '@pharos/relabel';

export interface ResolvedTarget {
  /** Labels after relabeling, internal (`__`) ones included: they decide URL, interval, timeout. */
  readonly labels: Labels;
  /** Labels the target's samples get: `labels` without the `__` ones. */
  readonly publicLabels: Labels;
  readonly discoveredLabels: Labels;
  readonly url: string;
  readonly interval: number;
  readonly timeout: number;
  /** Stable identity of a target within a pool, so reloads keep its loop running. */
  readonly key: string;
}

export type PopulateResult =
  | { readonly kind: 'target'; readonly target: ResolvedTarget }
  | { readonly kind: 'dropped'; readonly discoveredLabels: Labels }
  | { readonly kind: 'error'; readonly discoveredLabels: Labels; readonly error: string };

/** Turns one discovered target into a scrape target, following Prometheus' PopulateLabels. */
export function populateTarget(
  tlabels: Readonly<Record<string, string>>,
  group: TargetGroup,
  cfg: ScrapeConfig,
): PopulateResult {
  const b = new LabelsBuilder(labelsFrom({ ...group.labels, ...tlabels }));
  const defaults: Array<[string, string]> = [
    ['job', cfg.jobName],
    ['__scrape_interval__', formatDuration(cfg.scrapeInterval)],
    ['__scrape_timeout__', formatDuration(cfg.scrapeTimeout)],
    ['__metrics_path__', cfg.metricsPath],
    ['__scheme__', cfg.scheme],
  ];
  for (const [n, v] of defaults) if (b.get(n) === '') b.set(n, v);
  for (const [k, v] of Object.entries(cfg.params)) {
    const name = `__param_${k}`;
    if (v.length > 0 && b.get(name) === '') b.set(name, v[0]);
  }
  const discoveredLabels = b.labels();
  const relabeled = relabel(discoveredLabels, cfg.relabelConfigs);
  if (relabeled === null) return { kind: 'dropped', discoveredLabels };
  const out = new LabelsBuilder(relabeled);
  const address = out.get('__address__');
  if (address === '') return { kind: 'dropped', discoveredLabels };
  if (address.includes('/') || address.includes('?') || address.includes('#')) {
    return { kind: 'error', discoveredLabels, error: `${JSON.stringify(address)} is not a valid hostname` };
  }
  let interval: number;
  let timeout: number;
  try {
    interval = parseDuration(out.get('__scrape_interval__'));
    timeout = parseDuration(out.get('__scrape_timeout__'));
  } catch (e) {
    return {
      kind: 'error',
      discoveredLabels,
      error: `error parsing scrape interval or timeout: ${(e as Error).message}`,
    };
  }
  if (interval === 0) return { kind: 'error', discoveredLabels, error: 'scrape interval cannot be 0' };
  if (timeout === 0) return { kind: 'error', discoveredLabels, error: 'scrape timeout cannot be 0' };
  if (timeout > interval) {
    return {
      kind: 'error',
      discoveredLabels,
      error: `scrape timeout cannot be greater than scrape interval (${formatDuration(timeout)} > ${formatDuration(interval)})`,
    };
  }
  for (const l of out.labels()) if (l.name.startsWith('__meta_')) out.del(l.name);
  if (out.get('instance') === '') out.set('instance', address);
  const labels = out.labels();
  const publicLabels = labels.filter((l: Label) => !l.name.startsWith('__'));
  const url = buildURL(labels, cfg.params);
  return {
    kind: 'target',
    target: { labels, publicLabels, discoveredLabels, url, interval, timeout, key: labelsHash(labels) },
  };
}

function buildURL(labels: Labels, cfgParams: Readonly<Record<string, readonly string[]>>): string {
  const get = (n: string) => labels.find((l) => l.name === n)?.value ?? '';
  const params = new Map<string, string[]>();
  for (const [k, v] of Object.entries(cfgParams)) params.set(k, [...v]);
  for (const l of labels) {
    if (!l.name.startsWith('__param_')) continue;
    const k = l.name.slice('__param_'.length);
    const cur = params.get(k);
    if (cur && cur.length > 0) cur[0] = l.value;
    else params.set(k, [l.value]);
  }
  const search = new URLSearchParams();
  for (const [k, vs] of params) for (const v of vs) search.append(k, v);
  const q = search.toString();
  return `${get('__scheme__')}://${get('__address__')}${get('__metrics_path__')}${q ? `?${q}` : ''}`;
}
