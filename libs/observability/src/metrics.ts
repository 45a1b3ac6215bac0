import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BUILD_INFO } from './build-info.js';

/** A registry with process metrics and build info, for a role's own /metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const build = new Gauge({
    name: 'pharos_build_info',
    help: 'A metric with a constant 1 value labeled by version, revision, branch and Node.js version.',
    labelNames: ['version', 'revision', 'branch', 'nodeversion'],
    registers: [registry],
  });
  build.set(
    {
      version: BUILD_INFO.version,
      revision: BUILD_INFO.revision,
      branch: BUILD_INFO.branch,
      nodeversion: process.version,
    },
    1,
  );
  return registry;
}
