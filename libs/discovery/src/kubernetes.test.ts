import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { KubernetesRole, KubernetesSDConfig } from '@pharos/config';
import { KubernetesDiscoverer } from './kubernetes.js';
import { Updates } from './test-helpers.js';

interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  [k: string]: unknown;
}

/**
 * A stand-in for the Kubernetes API server's list and watch endpoints (core v1, discovery.k8s.io/v1,
 * networking.k8s.io/v1): lists carry a resourceVersion, watches stream newline-delimited events.
 */
class FakeKube {
  rv = 1;
  readonly objects = new Map<string, Map<string, Obj>>();
  readonly requests: Array<{ url: string; auth: string | undefined }> = [];
  private watches: Array<{ plural: string; res: ServerResponse; matches: (o: Obj) => boolean }> = [];
  /** Every change, so a watch from a resourceVersion replays what it missed, as the API server does. */
  private readonly history: Array<{ rv: number; plural: string; line: string; object: Obj }> = [];
  readonly server = createServer((req, res) => this.handle(req, res));

  private route(pathname: string): { plural: string; ns?: string } | undefined {
    const m = /^\/(?:api\/v1|apis\/[^/]+\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/.exec(pathname);
    return m ? { ns: m[1], plural: m[2] } : undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    const r = this.route(url.pathname);
    if (!r) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
      return;
    }
    const selector = url.searchParams.get('labelSelector');
    const matches = (o: Obj) => {
      if (r.ns && o.metadata.namespace !== r.ns) return false;
      if (!selector) return true;
      const [k, v] = selector.split('=');
      return o.metadata.labels?.[k] === v;
    };
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      const from = Number(url.searchParams.get('resourceVersion') ?? '0');
      for (const h of this.history)
        if (h.rv > from && h.plural === r.plural && matches(h.object)) res.write(h.line);
      this.watches.push({ plural: r.plural, res, matches });
      req.on('close', () => (this.watches = this.watches.filter((x) => x.res !== res)));
      return;
    }
    const items = [...(this.objects.get(r.plural)?.values() ?? [])].filter(matches);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'List',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      }),
    );
  }

  put(plural: string, obj: Obj): void {
    const map = this.objects.get(plural) ?? new Map<string, Obj>();
    this.objects.set(plural, map);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const type = map.has(key) ? 'MODIFIED' : 'ADDED';
    obj.metadata.resourceVersion = String(++this.rv);
    map.set(key, obj);
    this.emit(plural, type, obj);
  }

  remove(plural: string, namespace: string, name: string): void {
    const map = this.objects.get(plural);
    const obj = map?.get(`${namespace}/${name}`);
    if (!map || !obj) return;
    map.delete(`${namespace}/${name}`);
    obj.metadata.resourceVersion = String(++this.rv);
    this.emit(plural, 'DELETED', obj);
  }

  private emit(plural: string, type: string, object: Obj): void {
    const line = `${JSON.stringify({ type, object })}\n`;
    this.history.push({ rv: this.rv, plural, line, object: structuredClone(object) });
    for (const w of this.watches) if (w.plural === plural && w.matches(object)) w.res.write(line);
  }

  /** Ends every open watch, as an API server does when a watch times out. */
  dropWatches(): void {
    for (const w of this.watches.splice(0)) w.res.end();
  }
}

const kube = new FakeKube();
let apiServer = '';
before(async () => {
  await new Promise<void>((r) => kube.server.listen(0, '127.0.0.1', r));
  apiServer = `http://127.0.0.1:${(kube.server.address() as AddressInfo).port}`;
});
after(async () => {
  kube.dropWatches();
  kube.server.closeAllConnections();
  await new Promise<void>((r) => kube.server.close(() => r()));
});

function cfg(role: KubernetesRole, over: Partial<KubernetesSDConfig> = {}): KubernetesSDConfig {
  return {
    apiServer,
    role,
    kubeconfigFile: '',
    namespaces: { ownNamespace: false, names: [] },
    selectors: [],
    attachMetadata: { node: false, namespace: false },
    http: {
      authorization: { type: 'Bearer', credentials: { value: 'kube-token' } },
      tls: { insecureSkipVerify: false },
      followRedirects: true,
      enableHTTP2: true,
    },
    ...over,
  };
}

function pod(name: string, ip: string, labels: Record<string, string> = {}, ns = 'default'): Obj {
  return {
    metadata: { name, namespace: ns, uid: `uid-${name}`, labels },
    spec: {
      nodeName: 'node-1',
      containers: [
        { name: 'app', image: 'app:1', ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }] },
      ],
    },
    status: {
      podIP: ip,
      hostIP: '10.0.0.1',
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function service(tier: string): Obj {
  return {
    metadata: { name: 'web', namespace: 'default', labels: { tier } },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

async function running(c: KubernetesSDConfig, body: (up: Updates) => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  const up = new Updates();
  const ac = new AbortController();
  const done = new KubernetesDiscoverer(c, { onError: (m) => errors.push(m) }).run(up.fn, ac.signal);
  try {
    await body(up);
  } finally {
    ac.abort();
    await done;
  }
  return errors;
}

describe('kubernetes_sd_configs against a Kubernetes API stand-in', () => {
  it('role pod: lists, then follows pods added, changed and removed through the watch', async () => {
    kube.put('pods', pod('web-0', '10.1.0.1', { app: 'web' }));
    kube.put('pods', pod('other', '10.1.0.9', { app: 'other' }, 'kube-system'));
    const errors = await running(
      cfg('pod', {
        namespaces: { ownNamespace: false, names: ['default'] },
        selectors: [{ role: 'pod', label: 'app=web', field: '' }],
      }),
      async (up) => {
        await up.until((s) => s.get('pod/default/web-0')?.targets.length === 1);
        const g = up.state.get('pod/default/web-0');
        assert.equal(g?.targets[0].__address__, '10.1.0.1:9100');
        assert.equal(g?.targets[0].__meta_kubernetes_pod_container_port_name, 'metrics');
        assert.equal(g?.labels.__meta_kubernetes_pod_label_app, 'web');
        assert.equal(g?.labels.__meta_kubernetes_pod_labelpresent_app, 'true');
        assert.equal(g?.labels.__meta_kubernetes_pod_ready, 'true');
        assert.equal(g?.labels.__meta_kubernetes_namespace, 'default');
        assert.ok(!up.state.has('pod/kube-system/other'), 'other namespaces are not watched');
        kube.put('pods', pod('web-1', '10.1.0.2', { app: 'web' }));
        await up.until((s) => s.get('pod/default/web-1')?.targets[0]?.__address__ === '10.1.0.2:9100');
        kube.put('pods', pod('web-1', '10.1.0.3', { app: 'web' }));
        await up.until((s) => s.get('pod/default/web-1')?.targets[0]?.__address__ === '10.1.0.3:9100');
        kube.remove('pods', 'default', 'web-0');
        await up.until((s) => s.get('pod/default/web-0')?.targets.length === 0);
        kube.put('pods', pod('not-web', '10.1.0.4', { app: 'db' }));
        // The watch ends (as API servers end watches); the informer lists and watches again.
        kube.dropWatches();
        kube.put('pods', pod('web-2', '10.1.0.5', { app: 'web' }));
        await up.until((s) => s.get('pod/default/web-2')?.targets.length === 1);
        assert.ok(!up.state.has('pod/default/not-web'), 'the label selector applies');
      },
    );
    assert.deepEqual(errors, []);
    const calls = kube.requests.filter((r) => r.url.startsWith('/api/v1/namespaces/default/pods'));
    assert.ok(
      calls.some((r) => r.url.includes('watch=true')),
      'watched',
    );
    assert.ok(
      calls.every((r) => r.auth === 'Bearer kube-token' && r.url.includes('labelSelector=app%3Dweb')),
    );
  });

  it('role endpoints: joins endpoints with their service and pods', async () => {
    kube.put('services', service('front'));
    kube.put('pods', pod('web-3', '10.1.0.7', { app: 'web' }));
    kube.put('endpoints', {
      metadata: { name: 'web', namespace: 'default' },
      subsets: [
        {
          addresses: [{ ip: '10.1.0.7', targetRef: { kind: 'Pod', name: 'web-3', namespace: 'default' } }],
          ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }],
        },
      ],
    });
    await running(cfg('endpoints'), async (up) => {
      await up.until((s) => (s.get('endpoints/default/web')?.targets.length ?? 0) > 0);
      const g = up.state.get('endpoints/default/web');
      assert.equal(g?.labels.__meta_kubernetes_service_name, 'web');
      assert.equal(g?.labels.__meta_kubernetes_service_label_tier, 'front');
      const t = g?.targets.find((x) => x.__address__ === '10.1.0.7:9100');
      assert.equal(t?.__meta_kubernetes_endpoint_ready, 'true');
      assert.equal(t?.__meta_kubernetes_endpoint_port_name, 'metrics');
      assert.equal(t?.__meta_kubernetes_pod_name, 'web-3');
      assert.equal(t?.__meta_kubernetes_pod_container_name, 'app');
      // A service change reaches the endpoints' groups too.
      kube.put('services', service('edge'));
      await up.until(
        (s) => s.get('endpoints/default/web')?.labels.__meta_kubernetes_service_label_tier === 'edge',
      );
      kube.remove('endpoints', 'default', 'web');
      await up.until((s) => s.get('endpoints/default/web')?.targets.length === 0);
    });
  });

  it('roles node, service, ingress and endpointslice', async () => {
    kube.put('nodes', {
      metadata: { name: 'node-1', labels: { 'kubernetes.io/os': 'linux' } },
      spec: { providerID: 'p://1' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'node-1' },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
    });
    kube.put('ingresses', {
      metadata: { name: 'site', namespace: 'default' },
      spec: {
        ingressClassName: 'nginx',
        tls: [{ hosts: ['example.com'] }],
        rules: [{ host: 'example.com', http: { paths: [{ path: '/api' }] } }],
      },
    });
    kube.put('endpointslices', {
      metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.1.0.7'],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: 'web-3', namespace: 'default' },
        },
      ],
      ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }],
    });
    await running(cfg('node'), async (up) => {
      await up.until((s) => s.has('node/node-1'));
      const g = up.state.get('node/node-1');
      assert.deepEqual(g?.targets[0], {
        __address__: '10.0.0.1:10250',
        instance: 'node-1',
        __meta_kubernetes_node_address_InternalIP: '10.0.0.1',
        __meta_kubernetes_node_address_Hostname: 'node-1',
      });
      assert.equal(g?.labels.__meta_kubernetes_node_label_kubernetes_io_os, 'linux');
    });
    await running(cfg('service'), async (up) => {
      await up.until((s) => s.has('svc/default/web'));
      assert.equal(up.state.get('svc/default/web')?.targets[0].__address__, 'web.default.svc:80');
    });
    await running(cfg('ingress'), async (up) => {
      await up.until((s) => s.has('ingress/default/site'));
      const t = up.state.get('ingress/default/site')?.targets[0];
      assert.equal(t?.__meta_kubernetes_ingress_scheme, 'https');
      assert.equal(t?.__meta_kubernetes_ingress_path, '/api');
    });
    await running(cfg('endpointslice'), async (up) => {
      await up.until((s) => s.has('endpointslice/default/web-abc'));
      const g = up.state.get('endpointslice/default/web-abc');
      assert.equal(g?.labels.__meta_kubernetes_service_name, 'web');
      const t = g?.targets.find((x) => x.__address__ === '10.1.0.7:9100');
      assert.equal(t?.__meta_kubernetes_endpointslice_endpoint_conditions_ready, 'true');
      assert.equal(t?.__meta_kubernetes_pod_name, 'web-3');
    });
  });

  it('says why when neither api_server nor kubeconfig_file is given outside a cluster', async () => {
    // As if outside a cluster, whatever runs the tests.
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      const errors = await running(
        cfg('pod', { apiServer: '', http: { ...cfg('pod').http, authorization: undefined } }),
        async () => undefined,
      );
      assert.match(
        errors[0] ?? '',
        /error creating Kubernetes client: unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST/,
      );
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });

  it('reports an API server that refuses the connection', async () => {
    const errors = await running(cfg('pod', { apiServer: 'http://127.0.0.1:1' }), async (up) => {
      await up.until(() => false, 300).catch(() => undefined);
    });
    assert.match(errors[0] ?? '', /failed to list or watch pods: .*ECONNREFUSED/);
  });
});
