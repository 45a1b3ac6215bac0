import { EventEmitter } from 'node:events';
import Consul from 'consul';
import { readSecret, type ConsulSDConfig } from '@pharos/config';
import { pause } from './refresh.js';
import {
  emptyGroup,
  type Discoverer,
  type DiscovererHooks,
  type GroupsUpdate,
  type TargetGroup,
} from './target-group.js';

/** How long one blocking query may wait for a change, as upstream. */
const WATCH_TIMEOUT = '2m';
const RETRY_MS = 1_000;

interface ServiceEntry {
  Node: {
    Node: string;
    Address: string;
    Datacenter?: string;
    Partition?: string;
    TaggedAddresses?: Record<string, string> | null;
    Meta?: Record<string, string> | null;
  };
  Service: {
    ID: string;
    Service: string;
    Tags?: string[] | null;
    Address: string;
    Port: number;
    Meta?: Record<string, string> | null;
    Namespace?: string;
    Partition?: string;
    TaggedAddresses?: Record<string, { Address: string; Port: number }> | null;
  };
  Checks?: Array<{ Status: string }> | null;
}

/** The aggregated status of checks, as Consul's api.HealthChecks.AggregatedStatus. */
export function aggregatedStatus(checks: ServiceEntry['Checks']): string {
  let warning = false;
  let critical = false;
  let maintenance = false;
  for (const c of checks ?? []) {
    switch (c.Status) {
      case 'passing':
        break;
      case 'warning':
        warning = true;
        break;
      case 'critical':
        critical = true;
        break;
      case 'maintenance':
        maintenance = true;
        break;
      default:
        return '';
    }
  }
  if (maintenance) return 'maintenance';
  if (critical) return 'critical';
  if (warning) return 'warning';
  // No checks at all counts as passing, as in Consul's API.
  return 'passing';
}

/** Target labels of one service instance, named as upstream's consul discovery documents them. */
export function consulTarget(e: ServiceEntry, dc: string, tagSeparator: string): Record<string, string> {
  const address = e.Service.Address !== '' ? e.Service.Address : e.Node.Address;
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  const tags = e.Service.Tags ?? [];
  const t: Record<string, string> = {
    __address__: `${host}:${e.Service.Port}`,
    __meta_consul_address: e.Node.Address,
    __meta_consul_dc: dc,
    __meta_consul_health: aggregatedStatus(e.Checks),
    __meta_consul_node: e.Node.Node,
    __meta_consul_service: e.Service.Service,
    __meta_consul_service_address: e.Service.Address,
    __meta_consul_service_id: e.Service.ID,
    __meta_consul_service_port: String(e.Service.Port),
    // Surrounded by the separator (also with no tags), so relabel regexes need not care where a tag sits.
    __meta_consul_tags: `${tagSeparator}${tags.join(tagSeparator)}${tagSeparator}`,
  };
  const partition = e.Service.Partition ?? e.Node.Partition;
  if (partition) t.__meta_consul_partition = partition;
  if (e.Service.Namespace) t.__meta_consul_namespace = e.Service.Namespace;
  for (const [k, v] of Object.entries(e.Node.Meta ?? {})) t[`__meta_consul_metadata_${sanitize(k)}`] = v;
  for (const [k, v] of Object.entries(e.Service.Meta ?? {}))
    t[`__meta_consul_service_metadata_${sanitize(k)}`] = v;
  for (const [k, v] of Object.entries(e.Node.TaggedAddresses ?? {}))
    t[`__meta_consul_tagged_address_${sanitize(k)}`] = v;
  return t;
}

/** Label names allow only [a-zA-Z0-9_]: other characters become `_`, as upstream's strutil.SanitizeLabelName. */
function sanitize(name: string): string {
  let out = '';
  for (const c of name) out += /[a-zA-Z0-9_]/.test(c) ? c : '_';
  return out;
}

type Blocking<T> = (
  opts: Record<string, unknown>,
) => Promise<[{ headers: Record<string, string | undefined> }, T]>;

/**
 * consul_sd_configs: watches the catalog's service list and each wanted service's instances with
 * blocking queries (`index` + `X-Consul-Index`), pausing `refresh_interval` between rounds as
 * upstream does. One group per service; a service that leaves the catalog sends an empty group.
 * Failed requests are retried and leave the last targets in place.
 */
export class ConsulDiscoverer implements Discoverer {
  private readonly consul: Consul;
  private readonly defaults: Record<string, unknown>;

  constructor(
    private readonly cfg: ConsulSDConfig,
    private readonly hooks: DiscovererHooks = {},
  ) {
    const prefix = cfg.pathPrefix.replace(/\/$/, '');
    const token = readSecret(cfg.token) ?? readSecret(cfg.http.authorization?.credentials);
    // baseUrl carries path_prefix; the package supports it though its typings omit it.
    const options: ConstructorParameters<typeof Consul>[0] & { baseUrl: string } = {
      baseUrl: `${cfg.scheme}://${cfg.server}${prefix}/v1`,
    };
    this.consul = new Consul(options);
    this.defaults = {
      ...(token ? { token } : {}),
      ...(cfg.partition ? { partition: cfg.partition } : {}),
      ...(cfg.allowStale ? { stale: true } : {}),
      ...(cfg.filter ? { filter: cfg.filter } : {}),
    };
  }

  private async blocking<T>(
    fn: Blocking<T>,
    opts: Record<string, unknown>,
    index: string,
    signal: AbortSignal,
  ): Promise<{ data: T; index: string }> {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit('cancel');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [res, data] = await fn({ ...this.defaults, ...opts, index, wait: WATCH_TIMEOUT, ctx });
      return { data, index: res.headers['x-consul-index'] ?? '0' };
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }

  private async datacenter(): Promise<string> {
    if (this.cfg.datacenter !== '') return this.cfg.datacenter;
    const self = (await this.consul.agent.self()) as { Config?: { Datacenter?: string } };
    const dc = self.Config?.Datacenter;
    if (!dc) throw new Error('invalid value for Datacenter in /v1/agent/self');
    return dc;
  }

  private wanted(name: string, tags: readonly string[]): boolean {
    if (this.cfg.services.length > 0 && !this.cfg.services.includes(name)) return false;
    return this.cfg.tags.every((t) => tags.includes(t));
  }

  async run(up: GroupsUpdate, signal: AbortSignal): Promise<void> {
    let dc = '';
    while (!signal.aborted && dc === '') {
      try {
        dc = await this.datacenter();
      } catch (e) {
        this.hooks.onError?.(`error retrieving datacenter name: ${(e as Error).message}`);
        if (!(await pause(RETRY_MS, signal))) return;
      }
    }
    const nodeMeta = Object.entries(this.cfg.nodeMeta).map(([k, v]) => `${k}:${v}`);
    const common = { dc, ...(nodeMeta.length > 0 ? { 'node-meta': nodeMeta } : {}) };
    const watchers = new Map<string, AbortController>();
    let index = '0';
    try {
      while (!signal.aborted) {
        let services: Record<string, string[]>;
        try {
          const r = await this.blocking<Record<string, string[]>>(
            (o) =>
              this.consul.catalog.service.list(o) as unknown as ReturnType<
                Blocking<Record<string, string[]>>
              >,
            common,
            index,
            signal,
          );
          // An index going backwards means Consul's state was reset: start over.
          index = BigInt(r.index) < BigInt(index) ? '0' : r.index;
          services = r.data;
        } catch (e) {
          if (signal.aborted) return;
          this.hooks.onError?.(`error refreshing service list: ${(e as Error).message}`);
          if (!(await pause(RETRY_MS, signal))) return;
          continue;
        }
        for (const [name, tags] of Object.entries(services)) {
          if (!this.wanted(name, tags ?? []) || watchers.has(name)) continue;
          const ac = new AbortController();
          watchers.set(name, ac);
          void this.watchService(name, dc, common, up, AbortSignal.any([signal, ac.signal]));
        }
        for (const [name, ac] of watchers) {
          if (name in services && this.wanted(name, services[name] ?? [])) continue;
          ac.abort();
          watchers.delete(name);
          up([emptyGroup(name)]);
        }
        if (!(await pause(this.cfg.refreshInterval, signal))) return;
      }
    } finally {
      for (const ac of watchers.values()) ac.abort();
    }
  }

  private async watchService(
    name: string,
    dc: string,
    common: Record<string, unknown>,
    up: GroupsUpdate,
    signal: AbortSignal,
  ): Promise<void> {
    let index = '0';
    while (!signal.aborted) {
      try {
        const r = await this.blocking<ServiceEntry[]>(
          (o) =>
            this.consul.health.service(o as { service: string }) as unknown as ReturnType<
              Blocking<ServiceEntry[]>
            >,
          { ...common, service: name, ...(this.cfg.tags.length > 0 ? { tag: [...this.cfg.tags] } : {}) },
          index,
          signal,
        );
        if (signal.aborted) return;
        const changed = r.index !== index;
        index = BigInt(r.index) < BigInt(index) ? '0' : r.index;
        if (changed) {
          const group: TargetGroup = {
            source: name,
            targets: r.data.map((e) => consulTarget(e, dc, this.cfg.tagSeparator)),
            labels: {},
          };
          up([group]);
        }
      } catch (e) {
        if (signal.aborted) return;
        this.hooks.onError?.(`error refreshing service ${name}: ${(e as Error).message}`);
        if (!(await pause(RETRY_MS, signal))) return;
        continue;
      }
      if (!(await pause(this.cfg.refreshInterval, signal))) return;
    }
  }
}
