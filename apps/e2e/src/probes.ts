// What a load balancer and a dashboard ask of a system under load, every 250 ms: /-/healthy and
// a trivial query. Shared by the benchmarks that load a system and report whether it kept
// answering.
import { usage } from './harness.js';

export const PROBE_TIMEOUT_MS = 10_000;
const PROBE_EVERY_MS = 250;

export interface ProbeOutcome {
  readonly probeMs: number[];
  readonly probeFailed: number;
  readonly peakRssMiB: number;
}

export const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Probes `url` until `done()`, sampling the RSS of `pid` beside each pair of probes. */
export async function probeUntil(url: string, pid: number, done: () => boolean): Promise<ProbeOutcome> {
  const probeMs: number[] = [];
  let probeFailed = 0;
  let peakRssMiB = 0;
  const probes: Array<Promise<void>> = [];
  const probeOnce = async (path: string) => {
    const t0 = performance.now();
    const r = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).catch(
      () => undefined,
    );
    if (r?.ok) {
      await r.arrayBuffer();
      probeMs.push(performance.now() - t0);
    } else probeFailed++;
  };
  while (!done()) {
    probes.push(probeOnce('/-/healthy'), probeOnce(`/api/v1/query?query=${encodeURIComponent('vector(1)')}`));
    try {
      peakRssMiB = Math.max(peakRssMiB, usage(pid).rssMiB);
    } catch {
      // The process is gone: its probes fail, which is what the report says.
    }
    await new Promise((res) => setTimeout(res, PROBE_EVERY_MS));
  }
  await Promise.all(probes);
  return { probeMs, probeFailed, peakRssMiB };
}

/** `probes | unanswered | p50 ms | p99 ms | max ms` cells of a report row. */
export function probeCells(o: ProbeOutcome): string {
  const max = o.probeMs.length > 0 ? Math.max(...o.probeMs).toFixed(0) : '-';
  return `${o.probeMs.length} | ${o.probeFailed} | ${quantile(o.probeMs, 0.5).toFixed(1)} | ${quantile(o.probeMs, 0.99).toFixed(1)} | ${max}`;
}
