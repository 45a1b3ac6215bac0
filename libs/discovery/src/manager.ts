import type { ScrapeConfig } from '@pharos/config';
import { ConsulDiscoverer } from './consul.js';
import { DNSDiscoverer, type DNSResolver } from './dns.js';
import { FileDiscoverer } from './file.js';
import { KubernetesDiscoverer } from './kubernetes.js';
import { staticGroups } from './static.js';
import type { Discoverer, DiscovererHooks, TargetGroup } from './target-group.js';

export interface DiscoveryManagerOptions {
  /** The full set of target groups of a job, after every change (coalesced). */
  onUpdate(job: string, groups: readonly TargetGroup[]): void;
  onError?(job: string, provider: string, message: string): void;
  /** How long changes gather before a job's targets are sent again; upstream waits 5 s. */
  readonly updateDelayMs?: number;
  readonly dnsResolver?: DNSResolver;
}

interface Provider {
  readonly job: string;
  readonly name: string;
  readonly groups: Map<string, TargetGroup>;
  readonly abort: AbortController;
  done: Promise<void>;
}

interface Spec {
  readonly name: string;
  /** Same key on reload: the provider keeps running and keeps its targets. */
  readonly key: string;
  readonly make?: (hooks: DiscovererHooks) => Discoverer;
  readonly fixed?: readonly TargetGroup[];
}

/**
 * Runs the service-discovery providers of every scrape config and reports each job's full set of
 * target groups. A reload keeps providers whose configuration did not change, so their targets
 * (and the scrape loops behind them) survive.
 */
export class DiscoveryManager {
  private readonly providers = new Map<string, Provider>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private jobs: string[] = [];

  constructor(private readonly opts: DiscoveryManagerOptions) {}

  private specs(cfg: ScrapeConfig): Spec[] {
    const out: Spec[] = [];
    const job = cfg.jobName;
    staticGroups(cfg).forEach((group, i) => {
      const key = `${job}\0static/${i}\0${JSON.stringify(group)}`;
      out.push({ name: `static/${i}`, key, fixed: [group] });
    });
    const add = <C>(kind: string, list: readonly C[], make: (c: C, hooks: DiscovererHooks) => Discoverer) =>
      list.forEach((c, i) =>
        out.push({
          name: `${kind}/${i}`,
          key: `${job}\0${kind}/${i}\0${JSON.stringify(c)}`,
          make: (h) => make(c, h),
        }),
      );
    add('file', cfg.fileSDConfigs, (c, h) => new FileDiscoverer(c, h));
    add('dns', cfg.dnsSDConfigs, (c, h) => new DNSDiscoverer(c, h, this.opts.dnsResolver));
    add('consul', cfg.consulSDConfigs, (c, h) => new ConsulDiscoverer(c, h));
    add('kubernetes', cfg.kubernetesSDConfigs, (c, h) => new KubernetesDiscoverer(c, h));
    return out;
  }

  /** Applies a (re)loaded set of scrape configs and sends every job's targets at once. */
  apply(configs: readonly ScrapeConfig[]): void {
    const wanted = new Map<string, { job: string; spec: Spec }>();
    for (const cfg of configs)
      for (const spec of this.specs(cfg)) wanted.set(spec.key, { job: cfg.jobName, spec });
    for (const [key, p] of this.providers) {
      if (wanted.has(key)) continue;
      p.abort.abort();
      this.providers.delete(key);
    }
    for (const [key, { job, spec }] of wanted) {
      if (this.providers.has(key)) continue;
      const p: Provider = {
        job,
        name: spec.name,
        groups: new Map(),
        abort: new AbortController(),
        done: Promise.resolve(),
      };
      this.providers.set(key, p);
      if (spec.fixed) for (const g of spec.fixed) p.groups.set(g.source, g);
      if (spec.make) {
        const discoverer = spec.make({ onError: (m) => this.opts.onError?.(job, spec.name, m) });
        p.done = discoverer
          .run((groups) => this.receive(p, groups), p.abort.signal)
          .catch((e: Error) => this.opts.onError?.(job, spec.name, e.message));
      }
    }
    this.jobs = configs.map((c) => c.jobName);
    for (const job of this.jobs) this.dirty.add(job);
    this.flush();
  }

  private receive(p: Provider, groups: readonly TargetGroup[]): void {
    if (p.abort.signal.aborted) return;
    for (const g of groups) {
      if (g.targets.length === 0) p.groups.delete(g.source);
      else p.groups.set(g.source, g);
    }
    this.dirty.add(p.job);
    this.timer ??= setTimeout(() => this.flush(), this.opts.updateDelayMs ?? 1_000);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const jobs = [...this.dirty].filter((j) => this.jobs.includes(j));
    this.dirty.clear();
    for (const job of jobs) this.opts.onUpdate(job, this.groupsOf(job));
  }

  /** Every group the providers of a job currently have. */
  groupsOf(job: string): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const p of this.providers.values()) {
      if (p.job !== job) continue;
      for (const g of p.groups.values()) out.push({ ...g, source: `${p.name}/${g.source}` });
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const running = [...this.providers.values()];
    for (const p of running) p.abort.abort();
    this.providers.clear();
    await Promise.all(running.map((p) => p.done));
  }
}
