import { promises as dns } from 'node:dns';
import type { DNSSDConfig } from '@pharos/config';
import { runRefresh } from './refresh.js';
import type { Discoverer, DiscovererHooks, GroupsUpdate, TargetGroup } from './target-group.js';

/** The lookups the provider needs; node's resolver by default, one pointed at a test server in tests. */
export type DNSResolver = Pick<
  dns.Resolver,
  'resolveSrv' | 'resolve4' | 'resolve6' | 'resolveMx' | 'resolveNs'
>;

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * dns_sd_configs: each name looked up every refresh interval; one group per name. A name that
 * does not exist has no targets; a lookup that fails keeps the name's last targets.
 */
export class DNSDiscoverer implements Discoverer {
  private readonly last = new Map<string, TargetGroup>();

  constructor(
    private readonly cfg: DNSSDConfig,
    private readonly hooks: DiscovererHooks = {},
    private readonly resolver: DNSResolver = new dns.Resolver(),
  ) {}

  private async lookup(name: string): Promise<Array<Record<string, string>>> {
    const port = String(this.cfg.port);
    const target = (address: string, extra: Record<string, string> = {}) => ({
      __address__: address,
      __meta_dns_name: name,
      __meta_dns_srv_record_target: '',
      __meta_dns_srv_record_port: '',
      __meta_dns_mx_record_target: '',
      __meta_dns_ns_record_target: '',
      ...extra,
    });
    switch (this.cfg.type) {
      case 'SRV':
        return (await this.resolver.resolveSrv(name)).map((r) => {
          const host = trimDot(r.name);
          return target(`${host}:${r.port}`, {
            __meta_dns_srv_record_target: host,
            __meta_dns_srv_record_port: String(r.port),
          });
        });
      case 'A':
        return (await this.resolver.resolve4(name)).map((ip) => target(`${ip}:${port}`));
      case 'AAAA':
        return (await this.resolver.resolve6(name)).map((ip) => target(`[${ip}]:${port}`));
      case 'MX':
        return (await this.resolver.resolveMx(name)).map((r) => {
          const host = trimDot(r.exchange);
          return target(`${host}:${port}`, { __meta_dns_mx_record_target: host });
        });
      case 'NS':
        return (await this.resolver.resolveNs(name)).map((ns) => {
          const host = trimDot(ns);
          return target(`${host}:${port}`, { __meta_dns_ns_record_target: host });
        });
    }
  }

  private async refresh(): Promise<TargetGroup[]> {
    const groups = await Promise.all(
      this.cfg.names.map(async (name): Promise<TargetGroup | undefined> => {
        try {
          const g = { source: name, targets: await this.lookup(name), labels: {} };
          this.last.set(name, g);
          return g;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? '';
          if (NOT_FOUND.has(code)) {
            const g = { source: name, targets: [], labels: {} };
            this.last.set(name, g);
            return g;
          }
          this.hooks.onError?.(
            `error refreshing DNS targets for ${name} (${this.cfg.type}): ${(e as Error).message}`,
          );
          return this.last.get(name);
        }
      }),
    );
    return groups.filter((g): g is TargetGroup => g !== undefined);
  }

  run(up: GroupsUpdate, signal: AbortSignal): Promise<void> {
    return runRefresh(
      () => this.refresh(),
      this.cfg.refreshInterval,
      up,
      signal,
      (m) => this.hooks.onError?.(m),
    );
  }
}
