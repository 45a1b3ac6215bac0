import type { ScrapeConfig } from '@pharos/config';
import type { TargetGroup } from './target-group.js';

/** static_configs: one group per entry, fixed for the life of the configuration. */
export function staticGroups(cfg: ScrapeConfig): TargetGroup[] {
  return cfg.staticConfigs.map((sc, i) => ({
    source: String(i),
    targets: sc.targets.map((t) => ({ __address__: t })),
    labels: sc.labels,
  }));
}
