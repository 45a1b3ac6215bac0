import type { PrometheusConfig, ScrapeConfig } from '@pharos/config';
import type { Labels } from '@pharos/model';
import { Counter, type Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import { scrapeDispatcher } from './http.js';
import { ScrapeLoop, type SampleSink } from './loop.js';
import type { RelabeledTarget, TargetGroup } from '@pharos/discovery';
import { populateTarget, resolveTarget, type PopulateResult } from './target.js';

export interface DroppedTarget {
  readonly discoveredLabels: Labels;
  readonly scrapePool: string;
}

interface Pool {
  cfg: ScrapeConfig;
  dispatcher: Dispatcher;
  /** The HTTP client settings the dispatcher was built from; a change rebuilds it. */
  httpKey: string;
  loops: Map<string, ScrapeLoop>;
  dropped: DroppedTarget[];
  /** Discovered groups (embedded: relabeled here), or targets the discovery role relabeled. */
  groups: readonly TargetGroup[] | null;
  relabeled: readonly RelabeledTarget[];
  /** Syncs run one at a time per pool, so overlapping updates cannot start a target twice. */
  syncing: Promise<void>;
}

export interface ScrapeManagerHooks {
  onScrapeError?(pool: string, err: unknown): void;
  onTargetError?(pool: string, error: string): void;
  /** Targets that started or stopped being scraped after a discovery update or a reload. */
  onTargetsChanged?(pool: string, started: readonly string[], stopped: readonly string[]): void;
  /** Samples of one scrape refused for a timestamp too far in the future. */
  onSamplesOutOfBounds?(pool: string, target: string, count: number): void;
}

/** The hooks both modes use: every scrape event as a structured log line. */
export function loggingScrapeHooks(logger: {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}): ScrapeManagerHooks {
  return {
    onScrapeError: (pool, err) => logger.error({ pool, err }, 'scrape loop error'),
    onTargetError: (pool, error) => logger.warn({ pool, error }, 'invalid target'),
    onTargetsChanged: (pool, started, stopped) =>
      logger.info({ pool, started, stopped }, 'scrape targets changed'),
    onSamplesOutOfBounds: (pool, target, count) =>
      logger.warn(
        { pool, target, num_dropped: count },
        'Error on ingesting samples that are too old or are too far into the future',
      ),
  };
}

/** Owns one scrape pool per job and one loop per target; reloads keep loops of unchanged targets. */
export class ScrapeManager {
  private readonly pools = new Map<string, Pool>();
  /** Samples refused since start for timestamps too far ahead (prometheus_target_scrapes_sample_out_of_bounds_total). */
  samplesOutOfBounds = 0;

  constructor(
    private readonly sink: SampleSink,
    private readonly hooks: ScrapeManagerHooks = {},
  ) {}

  /**
   * Applies a (re)loaded configuration; targets come from discovery through `setGroups`. A job
   * whose HTTP client cannot be built (an unreadable CA file, say) is skipped, or keeps its old
   * settings, as upstream; the reasons come back so a reload can report failure.
   */
  async applyConfig(config: PrometheusConfig): Promise<string[]> {
    const errors: string[] = [];
    const dispatcherFor = (cfg: ScrapeConfig): Dispatcher | undefined => {
      try {
        return scrapeDispatcher(cfg.http);
      } catch (e) {
        errors.push(
          `error creating HTTP client for job ${JSON.stringify(cfg.jobName)}: ${(e as Error).message}`,
        );
        return undefined;
      }
    };
    const jobs = new Set(config.scrapeConfigs.map((c) => c.jobName));
    for (const [name, pool] of this.pools) {
      if (!jobs.has(name)) {
        await this.stopPool(pool, true);
        this.pools.delete(name);
      }
    }
    for (const cfg of config.scrapeConfigs) {
      let pool = this.pools.get(cfg.jobName);
      if (!pool) {
        const dispatcher = dispatcherFor(cfg);
        if (!dispatcher) continue;
        pool = {
          cfg,
          dispatcher,
          httpKey: JSON.stringify(cfg.http),
          loops: new Map(),
          dropped: [],
          groups: [],
          relabeled: [],
          syncing: Promise.resolve(),
        };
        this.pools.set(cfg.jobName, pool);
      } else {
        // An unchanged job keeps its config object, so its loops keep their caches and staleness state.
        if (JSON.stringify(cfg) === JSON.stringify(pool.cfg)) continue;
        const httpKey = JSON.stringify(cfg.http);
        const dispatcher = httpKey !== pool.httpKey ? dispatcherFor(cfg) : pool.dispatcher;
        if (!dispatcher) continue;
        pool.cfg = cfg;
        if (dispatcher !== pool.dispatcher) {
          const old = pool.dispatcher;
          pool.dispatcher = dispatcher;
          pool.httpKey = httpKey;
          for (const loop of pool.loops.values()) loop.updateConfig(cfg, pool.dispatcher);
          void old.close();
        }
      }
      await this.sync(pool);
    }
    return errors;
  }

  /** Replaces every target group of a job with what discovery reports now. */
  async setGroups(job: string, groups: readonly TargetGroup[]): Promise<void> {
    const pool = this.pools.get(job);
    if (!pool) return;
    pool.groups = groups;
    await this.sync(pool);
  }

  /**
   * Applies a scraper's assignment from discovery: each listed pool gets exactly its targets in
   * it (none: it scrapes nothing). A pool that cannot take its targets is reported, not fatal.
   */
  applyAssignment(
    a: {
      readonly scrapePools: readonly string[];
      readonly targets: readonly (RelabeledTarget & { scrapePool: string })[];
    },
    onError: (pool: string, err: unknown) => void,
  ): void {
    for (const pool of a.scrapePools) {
      this.setTargets(
        pool,
        a.targets.filter((t) => t.scrapePool === pool),
      ).catch((err: unknown) => onError(pool, err));
    }
  }

  /** Replaces a job's targets with ones already relabeled by the discovery role. */
  async setTargets(job: string, targets: readonly RelabeledTarget[]): Promise<void> {
    const pool = this.pools.get(job);
    if (!pool) return;
    pool.groups = null;
    pool.relabeled = targets;
    await this.sync(pool);
  }

  private sync(pool: Pool): Promise<void> {
    pool.syncing = pool.syncing.then(() => this.syncNow(pool));
    return pool.syncing;
  }

  private async syncNow(pool: Pool): Promise<void> {
    const wanted = new Map<string, PopulateResult>();
    const dropped: DroppedTarget[] = [];
    const results = pool.groups
      ? pool.groups.flatMap((g) => g.targets.map((t) => populateTarget(t, g, pool.cfg)))
      : pool.relabeled.map((r) => resolveTarget(r, pool.cfg));
    for (const r of results) {
      if (r.kind === 'target') wanted.set(r.target.key, r);
      else {
        if (r.kind === 'error') this.hooks.onTargetError?.(pool.cfg.jobName, r.error);
        dropped.push({ discoveredLabels: r.discoveredLabels, scrapePool: pool.cfg.jobName });
      }
    }
    // Over target_limit, upstream keeps the targets but fails every scrape of the pool with the reason.
    const limitError =
      pool.cfg.targetLimit > 0 && wanted.size > pool.cfg.targetLimit
        ? `target_limit exceeded (number of targets: ${wanted.size}, limit: ${pool.cfg.targetLimit})`
        : '';
    if (limitError !== '') this.hooks.onTargetError?.(pool.cfg.jobName, limitError);
    pool.dropped = pool.cfg.keepDroppedTargets > 0 ? dropped.slice(0, pool.cfg.keepDroppedTargets) : dropped;
    const started: string[] = [];
    const stopped: string[] = [];
    for (const [key, loop] of pool.loops) {
      if (!wanted.has(key)) {
        await loop.stop();
        await loop.markStale();
        pool.loops.delete(key);
        stopped.push(loop.target.url);
      }
    }
    for (const [key, r] of wanted) {
      if (r.kind !== 'target') continue;
      const existing = pool.loops.get(key);
      if (existing) {
        existing.updateConfig(pool.cfg, pool.dispatcher);
        existing.forcedError = limitError;
        continue;
      }
      const url = r.target.url;
      const loop = new ScrapeLoop(
        r.target,
        pool.cfg,
        this.sink,
        pool.dispatcher,
        (e) => this.hooks.onScrapeError?.(pool.cfg.jobName, e),
        undefined,
        (n) => {
          this.samplesOutOfBounds += n;
          this.hooks.onSamplesOutOfBounds?.(pool.cfg.jobName, url, n);
        },
      );
      loop.forcedError = limitError;
      pool.loops.set(key, loop);
      loop.start();
      started.push(loop.target.url);
    }
    if (started.length + stopped.length > 0)
      this.hooks.onTargetsChanged?.(pool.cfg.jobName, started, stopped);
  }

  private async stopPool(pool: Pool, markStale: boolean): Promise<void> {
    for (const loop of pool.loops.values()) {
      await loop.stop();
      if (markStale) await loop.markStale();
    }
    pool.loops.clear();
    await pool.dispatcher.close();
  }

  /** Stops every loop; no staleness markers, so a restart continues the series seamlessly. */
  async stop(): Promise<void> {
    for (const pool of this.pools.values()) await this.stopPool(pool, false);
    this.pools.clear();
  }

  poolNames(): string[] {
    return [...this.pools.keys()].sort();
  }

  activeTargets(): Array<{ pool: string; cfg: ScrapeConfig; loop: ScrapeLoop }> {
    const out: Array<{ pool: string; cfg: ScrapeConfig; loop: ScrapeLoop }> = [];
    for (const [name, pool] of this.pools)
      for (const loop of pool.loops.values()) out.push({ pool: name, cfg: pool.cfg, loop });
    return out;
  }

  droppedTargets(): DroppedTarget[] {
    return [...this.pools.values()].flatMap((p) => p.dropped);
  }
}

/** The scrape manager's own metrics, under upstream's names; both modes register them. */
export function registerScrapeMetrics(manager: ScrapeManager, registry: Registry): void {
  new Counter({
    name: 'prometheus_target_scrapes_sample_out_of_bounds_total',
    help: 'Total number of samples rejected due to timestamp falling outside of the time bounds.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(manager.samplesOutOfBounds);
    },
  });
}
