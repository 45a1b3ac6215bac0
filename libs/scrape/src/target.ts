import { formatDuration, parseDuration, type ScrapeConfig } from '@pharos/config';
import { LabelsBuilder, labelsHash, type Label, type Labels } from '@pharos/model';
import { relabelTarget, type RelabeledTarget, type TargetGroup } from '@pharos/discovery';

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
  const r = relabelTarget(tlabels, group, cfg);
  return r.kind === 'dropped' ? r : resolveTarget(r, cfg);
}

/** The second half of PopulateLabels, on the scraper: checks the address and interval, builds the URL. */
export function resolveTarget(relabeled: RelabeledTarget, cfg: ScrapeConfig): PopulateResult {
  const { discoveredLabels } = relabeled;
  const out = new LabelsBuilder(relabeled.labels);
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
  // As Go's url.URL.String() with a host: a path without its leading slash gets one.
  const path = get('__metrics_path__');
  const slash = path === '' || path.startsWith('/') ? '' : '/';
  return `${get('__scheme__')}://${get('__address__')}${slash}${path}${q ? `?${q}` : ''}`;
}
