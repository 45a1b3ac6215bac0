import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BUILD_INFO } from './build-info.js';

const EVENT_LOOP_SAMPLE_MS = 100;

/** A registry with process metrics and build info, for a role's own /metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  // prom-client samples event loop delay every 10 ms by default: a timer that wakes the loop 100
  // times a second and cost the embedded process a sixth of its scrape-path CPU. Every 100 ms
  // still shows a stalled loop in nodejs_eventloop_lag_*.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
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
