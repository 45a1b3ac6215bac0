import type { ScrapeConfig } from '@pharos/config';
import { labelsHash, type Labels } from '@pharos/model';
import { relabelTarget, type RelabeledTarget } from './relabel-target.js';
import { owner } from './ring.js';
import type { TargetGroup } from './target-group.js';

export interface PoolTarget extends RelabeledTarget {
  readonly scrapePool: string;
  /** Hash of the relabeled labels: the target's identity and its key on the ring. */
  readonly key: string;
}

/** What one scraper is told to scrape: all of its targets, every time anything changes. */
export interface Assignment {
  readonly targets: readonly PoolTarget[];
  readonly scrapePools: readonly string[];
  readonly generation: number;
  readonly members: number;
}

export interface Subscriber {
  /** Scrapers with the same id share one place on the ring (a reconnecting scraper keeps its share). */
  readonly id: string;
  send(a: Assignment): void;
}

/**
 * Relabels every job's discovered targets and gives each to exactly one live scraper by
 * rendezvous hashing of its labels. A scraper that unsubscribes (its stream ended) has its targets
 * handed to the others in the same step; one that subscribes takes its share from all of them.
 */
export class TargetDistributor {
  private configs = new Map<string, ScrapeConfig>();
  private readonly groups = new Map<string, readonly TargetGroup[]>();
  private readonly targets = new Map<string, PoolTarget[]>();
  private readonly dropped = new Map<string, Labels[]>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly lastSent = new Map<Subscriber, string>();
  private generation = 0;

  applyConfig(configs: readonly ScrapeConfig[]): void {
    this.configs = new Map(configs.map((c) => [c.jobName, c]));
    for (const job of [...this.groups.keys()]) if (!this.configs.has(job)) this.groups.delete(job);
    for (const job of [...this.targets.keys()]) if (!this.configs.has(job)) this.targets.delete(job);
    for (const job of [...this.dropped.keys()]) if (!this.configs.has(job)) this.dropped.delete(job);
    for (const job of this.configs.keys()) this.relabel(job);
    this.distribute();
  }

  setGroups(job: string, groups: readonly TargetGroup[]): void {
    if (!this.configs.has(job)) return;
    this.groups.set(job, groups);
    this.relabel(job);
    this.distribute();
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    this.distribute();
    return () => {
      if (!this.subscribers.delete(s)) return;
      this.lastSent.delete(s);
      this.distribute();
    };
  }

  /** Targets relabeling dropped, for /api/v1/targets on the discovery side. */
  droppedTargets(): Array<{ scrapePool: string; discoveredLabels: Labels }> {
    return [...this.dropped].flatMap(([scrapePool, list]) =>
      list.map((discoveredLabels) => ({ scrapePool, discoveredLabels })),
    );
  }

  memberIds(): string[] {
    return [...new Set([...this.subscribers].map((s) => s.id))].sort();
  }

  private relabel(job: string): void {
    const cfg = this.configs.get(job);
    if (!cfg) return;
    const out = new Map<string, PoolTarget>();
    const dropped: Labels[] = [];
    for (const g of this.groups.get(job) ?? []) {
      for (const t of g.targets) {
        const r = relabelTarget(t, g, cfg);
        if (r.kind === 'dropped') {
          dropped.push(r.discoveredLabels);
          continue;
        }
        const key = labelsHash(r.labels);
        out.set(key, { scrapePool: job, key, labels: r.labels, discoveredLabels: r.discoveredLabels });
      }
    }
    this.targets.set(job, [...out.values()]);
    this.dropped.set(job, cfg.keepDroppedTargets > 0 ? dropped.slice(0, cfg.keepDroppedTargets) : dropped);
  }

  private distribute(): void {
    const ids = this.memberIds();
    this.generation++;
    const byMember = new Map<string, PoolTarget[]>(ids.map((id) => [id, []]));
    for (const list of this.targets.values()) {
      for (const t of list) {
        const id = owner(t.key, ids);
        if (id !== undefined) byMember.get(id)?.push(t);
      }
    }
    const scrapePools = [...this.configs.keys()];
    for (const s of this.subscribers) {
      const targets = byMember.get(s.id) ?? [];
      // Unchanged sets are not sent again; a changed pool list or a new member count is a change.
      const signature = `${scrapePools.join('\0')}|${ids.length}|${targets.map((t) => `${t.scrapePool}/${t.key}`).join(',')}`;
      if (this.lastSent.get(s) === signature) continue;
      this.lastSent.set(s, signature);
      s.send({ targets, scrapePools, generation: this.generation, members: ids.length });
    }
  }
}
