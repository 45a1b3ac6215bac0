import Consul from 'consul';
import type { ConsulSDConfig } from '@pharos/config';
import { ConsulDiscoverer } from './consul.js';
import type { TargetGroup } from './target-group.js';

/** A service instance as its peers see it: where to call it and what it says about itself. */
export interface Member {
  readonly id: string;
  /** host:port of its gRPC service. */
  readonly address: string;
  readonly meta: Readonly<Record<string, string>>;
}

export interface Registration {
  readonly service: string;
  readonly id: string;
  /** Host and port others dial (the gRPC service). */
  readonly host: string;
  readonly port: number;
  /** Where Consul checks it: the role's /-/ready. */
  readonly checkUrl: string;
  readonly meta: Readonly<Record<string, string>>;
}

/**
 * Announces a role instance in Consul's catalog with a health check on its /-/ready, so peers
 * watching healthy instances see it come and go. Resolves with the deregistration.
 */
export async function registerMember(consulAddress: string, r: Registration): Promise<() => Promise<void>> {
  const consul = new Consul({ baseUrl: `http://${consulAddress}/v1` } as ConstructorParameters<
    typeof Consul
  >[0]);
  await consul.agent.service.register({
    id: r.id,
    name: r.service,
    address: r.host,
    port: r.port,
    meta: { ...r.meta },
    check: {
      name: `${r.service} ready`,
      http: r.checkUrl,
      interval: '5s',
      timeout: '2s',
      // A dead instance leaves the catalog by itself: kill -9 deregisters nothing.
      deregistercriticalserviceafter: '1m',
    },
  });
  return async () => {
    await consul.agent.service.deregister(r.id);
  };
}

/**
 * Follows the healthy instances of a service through Consul's blocking queries (the same
 * watcher as consul_sd_configs) and reports the whole list on every change.
 */
export function watchMembers(
  consulAddress: string,
  service: string,
  onChange: (members: readonly Member[]) => void,
  onError: (message: string) => void,
): { close(): void } {
  const cfg: ConsulSDConfig = {
    server: consulAddress,
    pathPrefix: '',
    datacenter: '',
    partition: '',
    scheme: 'http',
    services: [service],
    tags: [],
    nodeMeta: {},
    tagSeparator: ',',
    allowStale: false,
    refreshInterval: 1000,
    filter: '',
    http: { tls: { insecureSkipVerify: false }, followRedirects: true, enableHTTP2: false },
  };
  const groups = new Map<string, TargetGroup>();
  const ac = new AbortController();
  const discoverer = new ConsulDiscoverer(cfg, { onError });
  void discoverer.run((changed) => {
    for (const g of changed) groups.set(g.source, g);
    const members: Member[] = [];
    for (const g of groups.values()) {
      for (const t of g.targets) {
        // Only instances whose checks all pass are members.
        if (t.__meta_consul_health !== 'passing') continue;
        const meta: Record<string, string> = {};
        for (const [k, v] of Object.entries(t)) {
          const m = /^__meta_consul_service_metadata_(.+)$/.exec(k);
          if (m) meta[m[1]] = v;
        }
        members.push({ id: t.__meta_consul_service_id ?? t.__address__, address: t.__address__, meta });
      }
    }
    onChange(members.sort((a, b) => a.id.localeCompare(b.id)));
  }, ac.signal);
  return { close: () => ac.abort() };
}
