import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TargetDistributor } from './distributor.js';
import { DiscoveryManager } from './manager.js';

/**
 * Discovery as both modes run it: providers feed the distributor, with upstream's metric names
 * so dashboards and alerts written for Prometheus' discovery work.
 */
export function instrumentedDiscovery(
  distributor: TargetDistributor,
  registry: Registry,
  logger: Logger,
): DiscoveryManager {
  const failures = new Counter({
    name: 'prometheus_sd_refresh_failures_total',
    help: 'Number of service discovery refresh failures.',
    labelNames: ['mechanism', 'config'],
    registers: [registry],
  });
  const discovered = new Gauge({
    name: 'prometheus_sd_discovered_targets',
    help: 'Current number of discovered targets.',
    labelNames: ['name', 'config'],
    registers: [registry],
  });
  return new DiscoveryManager({
    onUpdate: (job, groups) => {
      discovered.set(
        { name: 'scrape', config: job },
        groups.reduce((n, g) => n + g.targets.length, 0),
      );
      distributor.setGroups(job, groups);
    },
    onError: (job, provider, message) => {
      failures.inc({ mechanism: provider.split('/')[0], config: job });
      logger.error({ job, provider, err: message }, 'service discovery failed');
    },
  });
}
