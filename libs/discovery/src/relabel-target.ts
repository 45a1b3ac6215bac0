import { formatDuration, type ScrapeConfig } from '@pharos/config';
import { labelsFrom, LabelsBuilder, type Labels } from '@pharos/model';
import { relabel } from '@pharos/relabel';
import type { TargetGroup } from './target-group.js';

/** A discovered target after relabel_configs: what the discovery role hands a scraper. */
export interface RelabeledTarget {
  /** Internal labels (`__address__`, `__scheme__`, `__param_*`, ...) included. */
  readonly labels: Labels;
  readonly discoveredLabels: Labels;
}

export type RelabelResult =
  | ({ readonly kind: 'target' } & RelabeledTarget)
  | { readonly kind: 'dropped'; readonly discoveredLabels: Labels };

/**
 * The first half of Prometheus' PopulateLabels: job and scrape defaults, `__param_*` from
 * params, then relabel_configs. A target relabeling removes, or one left without an address, is
 * dropped. The scraper finishes the target (address checks, interval, URL).
 */
export function relabelTarget(
  tlabels: Readonly<Record<string, string>>,
  group: TargetGroup,
  cfg: ScrapeConfig,
): RelabelResult {
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
  const labels = relabel(discoveredLabels, cfg.relabelConfigs);
  if (labels === null || !labels.some((l) => l.name === '__address__' && l.value !== ''))
    return { kind: 'dropped', discoveredLabels };
  return { kind: 'target', labels, discoveredLabels };
}
