import { readFileSync } from 'node:fs';
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  ListWatch,
  NetworkingV1Api,
  Watch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { readSecret, type KubernetesRole, type KubernetesSDConfig } from '@pharos/config';
import {
  endpointSliceGroup,
  endpointsGroup,
  ingressGroup,
  nodeGroup,
  podGroup,
  serviceGroup,
  type EndpointSlice,
  type Endpoints,
  type Ingress,
  type Lookup,
  type Node,
  type Pod,
  type Service,
} from './kubernetes-targets.js';
import { pause } from './refresh.js';
import {
  emptyGroup,
  type Discoverer,
  type DiscovererHooks,
  type GroupsUpdate,
  type TargetGroup,
} from './target-group.js';

type Resource = 'pod' | 'service' | 'endpoints' | 'endpointslice' | 'node' | 'ingress';

/** The objects each role's targets are built from: endpoints join pods and services. */
const RESOURCES: Record<KubernetesRole, readonly Resource[]> = {
  pod: ['pod'],
  service: ['service'],
  node: ['node'],
  ingress: ['ingress'],
  endpoints: ['endpoints', 'pod', 'service'],
  endpointslice: ['endpointslice', 'pod', 'service'],
};

const PLURAL: Record<Resource, { prefix: string; plural: string }> = {
  pod: { prefix: '/api/v1', plural: 'pods' },
  service: { prefix: '/api/v1', plural: 'services' },
  endpoints: { prefix: '/api/v1', plural: 'endpoints' },
  node: { prefix: '/api/v1', plural: 'nodes' },
  endpointslice: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices' },
  ingress: { prefix: '/apis/networking.k8s.io/v1', plural: 'ingresses' },
};

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const RESTART_MS = 5_000;
/** Many events arrive together (a rollout); recompute once they settle. */
const SETTLE_MS = 100;

/** The client configuration upstream would build: kubeconfig file, explicit API server, or in-cluster. */
export function kubeConfigFor(cfg: KubernetesSDConfig): KubeConfig {
  const kc = new KubeConfig();
  if (cfg.kubeconfigFile !== '') {
    kc.loadFromFile(cfg.kubeconfigFile);
    return kc;
  }
  if (cfg.apiServer === '') {
    // The library would build "https://undefined:undefined" and fail on every request instead.
    if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT)
      throw new Error(
        'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
      );
    kc.loadFromCluster();
    return kc;
  }
  const tls = cfg.http.tls;
  const bearer = cfg.http.authorization;
  kc.loadFromClusterAndUser(
    {
      name: 'pharos',
      server: cfg.apiServer,
      // The client refuses plain http unless TLS verification is off; upstream allows an http
      // api_server, and there is nothing to verify without TLS.
      skipTLSVerify: tls.insecureSkipVerify || cfg.apiServer.startsWith('http://'),
      caFile: tls.ca?.file,
      caData: tls.ca?.value !== undefined ? Buffer.from(tls.ca.value).toString('base64') : undefined,
      tlsServerName: tls.serverName,
    },
    {
      name: 'pharos',
      token: bearer && bearer.type.toLowerCase() === 'bearer' ? readSecret(bearer.credentials) : undefined,
      username: readSecret(cfg.http.basicAuth?.username),
      password: readSecret(cfg.http.basicAuth?.password),
      certFile: tls.cert?.file,
      keyFile: tls.key?.file,
      certData: tls.cert?.value !== undefined ? Buffer.from(tls.cert.value).toString('base64') : undefined,
      keyData: tls.key?.value !== undefined ? Buffer.from(tls.key.value).toString('base64') : undefined,
    },
  );
  return kc;
}

function namespacesFor(cfg: KubernetesSDConfig, kc: KubeConfig): Array<string | undefined> {
  const names = [...cfg.namespaces.names];
  if (cfg.namespaces.ownNamespace) {
    let own: string | undefined;
    try {
      own = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
    } catch {
      own = kc.getContextObject(kc.getCurrentContext())?.namespace;
    }
    names.push(own ?? 'default');
  }
  // No namespaces: one informer over all of them.
  return names.length === 0 ? [undefined] : [...new Set(names)];
}

type Lister = (
  ns: string | undefined,
  labelSelector?: string,
  fieldSelector?: string,
) => Promise<KubernetesListObject<KubernetesObject>>;

/** The typed list calls of the client library, one per resource, namespaced or cluster-wide. */
function listers(kc: KubeConfig): Record<Resource, Lister> {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  return {
    pod: (namespace, labelSelector, fieldSelector) =>
      namespace
        ? core.listNamespacedPod({ namespace, labelSelector, fieldSelector })
        : core.listPodForAllNamespaces({ labelSelector, fieldSelector }),
    service: (namespace, labelSelector, fieldSelector) =>
      namespace
        ? core.listNamespacedService({ namespace, labelSelector, fieldSelector })
        : core.listServiceForAllNamespaces({ labelSelector, fieldSelector }),
    endpoints: (namespace, labelSelector, fieldSelector) =>
      namespace
        ? core.listNamespacedEndpoints({ namespace, labelSelector, fieldSelector })
        : core.listEndpointsForAllNamespaces({ labelSelector, fieldSelector }),
    node: (_ns, labelSelector, fieldSelector) => core.listNode({ labelSelector, fieldSelector }),
    endpointslice: (namespace, labelSelector, fieldSelector) =>
      namespace
        ? discovery.listNamespacedEndpointSlice({ namespace, labelSelector, fieldSelector })
        : discovery.listEndpointSliceForAllNamespaces({ labelSelector, fieldSelector }),
    ingress: (namespace, labelSelector, fieldSelector) =>
      namespace
        ? networking.listNamespacedIngress({ namespace, labelSelector, fieldSelector })
        : networking.listIngressForAllNamespaces({ labelSelector, fieldSelector }),
  };
}

function pathFor(r: Resource, ns: string | undefined): string {
  const { prefix, plural } = PLURAL[r];
  return r === 'node' || ns === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${ns}/${plural}`;
}

interface Informer {
  readonly resource: Resource;
  readonly cache: ListWatch<KubernetesObject>;
}

/**
 * kubernetes_sd_configs: list and watch (the client library's ListWatch informers) the objects of
 * the role in the configured namespaces, with the configured selectors, and rebuild the role's
 * target groups when any of them changes. A watch that fails is reported and restarted; the
 * groups already sent stay in force until the new list arrives.
 */
export class KubernetesDiscoverer implements Discoverer {
  constructor(
    private readonly cfg: KubernetesSDConfig,
    private readonly hooks: DiscovererHooks = {},
    private readonly kubeConfig: () => KubeConfig = () => kubeConfigFor(cfg),
  ) {}

  async run(up: GroupsUpdate, signal: AbortSignal): Promise<void> {
    let kc: KubeConfig;
    try {
      kc = this.kubeConfig();
    } catch (e) {
      this.hooks.onError?.(`error creating Kubernetes client: ${(e as Error).message}`);
      return;
    }
    const list = listers(kc);
    const watch = new Watch(kc);
    const informers: Informer[] = [];
    for (const resource of RESOURCES[this.cfg.role]) {
      const sel = this.cfg.selectors.find((s) => s.role === resource);
      const label = sel?.label || undefined;
      const field = sel?.field || undefined;
      for (const ns of resource === 'node' ? [undefined] : namespacesFor(this.cfg, kc)) {
        const cache = new ListWatch<KubernetesObject>(
          pathFor(resource, ns),
          watch,
          () => list[resource](ns, label, field),
          false,
          label,
          field,
        );
        informers.push({ resource, cache });
      }
    }

    let previous = new Map<string, string>();
    let timer: NodeJS.Timeout | undefined;
    const emit = () => {
      timer = undefined;
      if (signal.aborted) return;
      const groups = this.groups(informers);
      const now = new Map(groups.map((g) => [g.source, JSON.stringify(g)]));
      const changed = groups.filter((g) => previous.get(g.source) !== now.get(g.source));
      const gone = [...previous.keys()].filter((s) => !now.has(s)).map(emptyGroup);
      previous = now;
      if (changed.length + gone.length > 0) up([...changed, ...gone]);
    };
    const schedule = () => {
      if (timer === undefined) timer = setTimeout(emit, SETTLE_MS);
    };

    const restart = async (inf: Informer) => {
      while (!signal.aborted) {
        if (!(await pause(RESTART_MS, signal))) return;
        try {
          await inf.cache.start();
          return;
        } catch (e) {
          this.hooks.onError?.(describe(inf.resource, e));
        }
      }
    };
    for (const inf of informers) {
      for (const verb of ['add', 'update', 'delete'] as const) inf.cache.on(verb, schedule);
      inf.cache.on('error', (err: unknown) => {
        if (signal.aborted) return;
        this.hooks.onError?.(describe(inf.resource, err));
        void restart(inf);
      });
    }
    // The first full set goes out once every informer has listed, so joins see all objects.
    const started = await Promise.all(
      informers.map((inf) =>
        inf.cache.start().then(
          () => true,
          (e: unknown) => {
            this.hooks.onError?.(describe(inf.resource, e));
            void restart(inf);
            return false;
          },
        ),
      ),
    );
    if (started.some(Boolean)) emit();
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (timer) clearTimeout(timer);
    await Promise.all(informers.map((inf) => inf.cache.stop().catch(() => undefined)));
  }

  private groups(informers: readonly Informer[]): TargetGroup[] {
    const of = <T>(r: Resource) =>
      informers.filter((i) => i.resource === r).flatMap((i) => i.cache.list() as unknown as T[]);
    const byKey = <T extends { metadata: { namespace?: string; name?: string } }>(items: T[]) =>
      new Map(items.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`, o]));
    switch (this.cfg.role) {
      case 'pod':
        return of<Pod>('pod').map(podGroup);
      case 'service':
        return of<Service>('service').map(serviceGroup);
      case 'node':
        return of<Node>('node').map(nodeGroup);
      case 'ingress':
        return of<Ingress>('ingress').map(ingressGroup);
      case 'endpoints':
      case 'endpointslice': {
        const pods = byKey(of<Pod>('pod'));
        const services = byKey(of<Service>('service'));
        const lookup: Lookup = {
          pod: (ns, name) => pods.get(`${ns}/${name}`),
          service: (ns, name) => services.get(`${ns}/${name}`),
        };
        return this.cfg.role === 'endpoints'
          ? of<Endpoints>('endpoints').map((e) => endpointsGroup(e, lookup))
          : of<EndpointSlice>('endpointslice').map((e) => endpointSliceGroup(e, lookup));
      }
    }
  }
}

function describe(resource: Resource, err: unknown): string {
  const e = err as { message?: string; code?: number; body?: unknown };
  const msg = e?.message ?? String(err);
  return `failed to list or watch ${PLURAL[resource].plural}: ${msg}`;
}
