// Kubernetes objects to target groups for each role, with the `__meta_kubernetes_*` labels of
// upstream's kubernetes_sd_config documentation. Pure functions over the API's JSON objects.
import { emptyGroup, type TargetGroup } from './target-group.js';

const META = '__meta_kubernetes_';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> | null;
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}
interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[] | null;
}
interface ContainerStatus {
  name: string;
  containerID?: string;
}

export interface Pod {
  metadata: ObjectMeta;
  spec?: { nodeName?: string; containers?: Container[]; initContainers?: Container[] | null };
  status?: {
    podIP?: string;
    hostIP?: string;
    phase?: string;
    conditions?: Array<{ type: string; status: string }> | null;
    containerStatuses?: ContainerStatus[] | null;
    initContainerStatuses?: ContainerStatus[] | null;
  };
}

export interface Service {
  metadata: ObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    externalName?: string;
    ports?: Array<{ name?: string; port: number; protocol?: string }> | null;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> | null } };
}

export interface Node {
  metadata: ObjectMeta;
  spec?: { providerID?: string };
  status?: {
    addresses?: Array<{ type: string; address: string }> | null;
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

interface TargetRef {
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface Endpoints {
  metadata: ObjectMeta;
  subsets?: Array<{
    addresses?: Array<{ ip: string; hostname?: string; nodeName?: string; targetRef?: TargetRef }> | null;
    notReadyAddresses?: Array<{
      ip: string;
      hostname?: string;
      nodeName?: string;
      targetRef?: TargetRef;
    }> | null;
    ports?: Array<{ name?: string; port: number; protocol?: string; appProtocol?: string }> | null;
  }> | null;
}

export interface EndpointSlice {
  metadata: ObjectMeta;
  addressType?: string;
  endpoints?: Array<{
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    nodeName?: string;
    zone?: string;
    targetRef?: TargetRef;
    deprecatedTopology?: Record<string, string> | null;
  }> | null;
  ports?: Array<{ name?: string; port?: number; protocol?: string; appProtocol?: string }> | null;
}

export interface Ingress {
  metadata: ObjectMeta;
  spec?: {
    ingressClassName?: string;
    tls?: Array<{ hosts?: string[] | null }> | null;
    rules?: Array<{ host?: string; http?: { paths?: Array<{ path?: string }> | null } | null }> | null;
  };
}

/** Label names allow only [a-zA-Z0-9_]: other characters become `_`, as upstream's strutil.SanitizeLabelName. */
export function sanitizeLabelName(name: string): string {
  let out = '';
  for (const c of name) out += /[a-zA-Z0-9_]/.test(c) ? c : '_';
  return out;
}

function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `<prefix>_label_*`, `_labelpresent_*`, `_annotation_*` and `_annotationpresent_*`. */
function metaLabels(prefix: string, m: ObjectMeta, out: Record<string, string>): void {
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    out[`${META}${prefix}_label_${sanitizeLabelName(k)}`] = v;
    out[`${META}${prefix}_labelpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    out[`${META}${prefix}_annotation_${sanitizeLabelName(k)}`] = v;
    out[`${META}${prefix}_annotationpresent_${sanitizeLabelName(k)}`] = 'true';
  }
}

export function podSource(namespace: string, name: string): string {
  return `pod/${namespace}/${name}`;
}

/** Labels every target of a pod carries. */
export function podLabels(pod: Pod): Record<string, string> {
  const m = pod.metadata;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const ls: Record<string, string> = {
    [`${META}namespace`]: m.namespace ?? '',
    [`${META}pod_name`]: m.name ?? '',
    [`${META}pod_ip`]: pod.status?.podIP ?? '',
    [`${META}pod_ready`]: ready === undefined ? 'unknown' : ready.toLowerCase(),
    [`${META}pod_phase`]: pod.status?.phase ?? '',
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${META}pod_uid`]: m.uid ?? '',
  };
  const controller = m.ownerReferences?.find((o) => o.controller);
  if (controller) {
    ls[`${META}pod_controller_kind`] = controller.kind;
    ls[`${META}pod_controller_name`] = controller.name;
  }
  metaLabels('pod', m, ls);
  return ls;
}

function containerLabels(pod: Pod, c: Container, init: boolean): Record<string, string> {
  const statuses = init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  return {
    [`${META}pod_container_name`]: c.name,
    [`${META}pod_container_image`]: c.image ?? '',
    [`${META}pod_container_init`]: String(init),
    [`${META}pod_container_id`]: statuses?.find((s) => s.name === c.name)?.containerID ?? '',
  };
}

function portLabels(p: ContainerPort): Record<string, string> {
  return {
    [`${META}pod_container_port_name`]: p.name ?? '',
    [`${META}pod_container_port_number`]: String(p.containerPort),
    [`${META}pod_container_port_protocol`]: p.protocol ?? 'TCP',
  };
}

function podContainers(pod: Pod): Array<{ c: Container; init: boolean }> {
  return [
    ...(pod.spec?.containers ?? []).map((c) => ({ c, init: false })),
    ...(pod.spec?.initContainers ?? []).map((c) => ({ c, init: true })),
  ];
}

/** role: pod. One target per declared container port, or one per container without ports. */
export function podGroup(pod: Pod): TargetGroup {
  const source = podSource(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  const ip = pod.status?.podIP ?? '';
  if (ip === '') return emptyGroup(source);
  const targets: Array<Record<string, string>> = [];
  for (const { c, init } of podContainers(pod)) {
    const ports = c.ports ?? [];
    if (ports.length === 0) {
      targets.push({ __address__: ip, ...containerLabels(pod, c, init) });
      continue;
    }
    for (const p of ports)
      targets.push({
        __address__: joinHostPort(ip, p.containerPort),
        ...containerLabels(pod, c, init),
        ...portLabels(p),
      });
  }
  return { source, targets, labels: podLabels(pod) };
}

export function serviceSource(namespace: string, name: string): string {
  return `svc/${namespace}/${name}`;
}

/** Labels every target of a service carries, also added to endpoints of the same name. */
export function serviceLabels(svc: Service): Record<string, string> {
  const m = svc.metadata;
  const ls: Record<string, string> = {
    [`${META}namespace`]: m.namespace ?? '',
    [`${META}service_name`]: m.name ?? '',
    [`${META}service_type`]: svc.spec?.type ?? 'ClusterIP',
  };
  if (svc.spec?.type === 'ExternalName') ls[`${META}service_external_name`] = svc.spec.externalName ?? '';
  else ls[`${META}service_cluster_ip`] = svc.spec?.clusterIP ?? '';
  if (svc.spec?.type === 'LoadBalancer') {
    const ingress = svc.status?.loadBalancer?.ingress?.[0];
    ls[`${META}service_loadbalancer_ip`] = ingress?.ip ?? '';
  }
  metaLabels('service', m, ls);
  return ls;
}

/** role: service. One target per service port, addressed by the service's DNS name. */
export function serviceGroup(svc: Service): TargetGroup {
  const ns = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';
  const host = `${name}.${ns}.svc`;
  const targets = (svc.spec?.ports ?? []).map((p) => ({
    __address__: joinHostPort(host, p.port),
    [`${META}service_port_name`]: p.name ?? '',
    [`${META}service_port_number`]: String(p.port),
    [`${META}service_port_protocol`]: p.protocol ?? 'TCP',
  }));
  return { source: serviceSource(ns, name), targets, labels: serviceLabels(svc) };
}

const NODE_ADDRESS_ORDER = [
  'InternalIP',
  'InternalDNS',
  'ExternalIP',
  'ExternalDNS',
  'LegacyHostIP',
  'Hostname',
];

/** role: node. The kubelet's address and port; `instance` is the node's name. */
export function nodeGroup(node: Node): TargetGroup {
  const name = node.metadata.name ?? '';
  const source = `node/${name}`;
  const addresses = node.status?.addresses ?? [];
  let address: string | undefined;
  for (const t of NODE_ADDRESS_ORDER) {
    address = addresses.find((a) => a.type === t)?.address;
    if (address !== undefined) break;
  }
  const labels: Record<string, string> = {
    [`${META}node_name`]: name,
    [`${META}node_provider_id`]: node.spec?.providerID ?? '',
  };
  metaLabels('node', node.metadata, labels);
  if (address === undefined) return { ...emptyGroup(source), labels };
  const target: Record<string, string> = {
    __address__: joinHostPort(address, node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250),
    instance: name,
  };
  for (const a of addresses) {
    const key = `${META}node_address_${a.type}`;
    if (!(key in target)) target[key] = a.address;
  }
  return { source, targets: [target], labels };
}

/** Finds pods and services by namespace and name, for the endpoints roles' joins. */
export interface Lookup {
  pod(namespace: string, name: string): Pod | undefined;
  service(namespace: string, name: string): Service | undefined;
}

/**
 * Adds the pod's labels (and, when a container declares the port, the container's) to an
 * endpoint target, and remembers which container ports an endpoint covered.
 */
function joinPod(
  lookup: Lookup,
  ref: TargetRef | undefined,
  ns: string,
  port: number,
  t: Record<string, string>,
  seen: Map<string, { pod: Pod; ports: Set<string> }>,
): void {
  if (ref?.kind !== 'Pod' || !ref.name) return;
  const pod = lookup.pod(ref.namespace ?? ns, ref.name);
  if (!pod) return;
  Object.assign(t, podLabels(pod));
  const entry = seen.get(ref.name) ?? { pod, ports: new Set<string>() };
  seen.set(ref.name, entry);
  for (const { c, init } of podContainers(pod)) {
    const p = (c.ports ?? []).find((x) => x.containerPort === port);
    if (!p) continue;
    Object.assign(t, containerLabels(pod, c, init), portLabels(p));
    entry.ports.add(`${c.name}/${p.containerPort}`);
  }
}

/** Container ports of joined pods that no endpoint covered still become targets, as upstream. */
function uncoveredPodTargets(
  seen: Map<string, { pod: Pod; ports: Set<string> }>,
): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const { pod, ports } of seen.values()) {
    const ip = pod.status?.podIP ?? '';
    if (ip === '') continue;
    for (const { c, init } of podContainers(pod)) {
      for (const p of c.ports ?? []) {
        if (ports.has(`${c.name}/${p.containerPort}`)) continue;
        out.push({
          __address__: joinHostPort(ip, p.containerPort),
          ...podLabels(pod),
          ...containerLabels(pod, c, init),
          ...portLabels(p),
        });
      }
    }
  }
  return out;
}

/** role: endpoints. One target per address and port, joined with pods and the service. */
export function endpointsGroup(ep: Endpoints, lookup: Lookup): TargetGroup {
  const ns = ep.metadata.namespace ?? '';
  const name = ep.metadata.name ?? '';
  const labels: Record<string, string> = { [`${META}namespace`]: ns, [`${META}endpoints_name`]: name };
  metaLabels('endpoints', ep.metadata, labels);
  const svc = lookup.service(ns, name);
  if (svc) Object.assign(labels, serviceLabels(svc));
  const targets: Array<Record<string, string>> = [];
  const seen = new Map<string, { pod: Pod; ports: Set<string> }>();
  for (const subset of ep.subsets ?? []) {
    for (const port of subset.ports ?? []) {
      const add = (
        a: { ip: string; hostname?: string; nodeName?: string; targetRef?: TargetRef },
        ready: boolean,
      ) => {
        const t: Record<string, string> = {
          __address__: joinHostPort(a.ip, port.port),
          [`${META}endpoint_port_name`]: port.name ?? '',
          [`${META}endpoint_port_protocol`]: port.protocol ?? 'TCP',
          [`${META}endpoint_ready`]: String(ready),
        };
        if (port.appProtocol) t[`${META}endpoint_port_app_protocol`] = port.appProtocol;
        if (a.hostname) t[`${META}endpoint_hostname`] = a.hostname;
        if (a.nodeName) t[`${META}endpoint_node_name`] = a.nodeName;
        if (a.targetRef) {
          t[`${META}endpoint_address_target_kind`] = a.targetRef.kind ?? '';
          t[`${META}endpoint_address_target_name`] = a.targetRef.name ?? '';
        }
        joinPod(lookup, a.targetRef, ns, port.port, t, seen);
        targets.push(t);
      };
      for (const a of subset.addresses ?? []) add(a, true);
      for (const a of subset.notReadyAddresses ?? []) add(a, false);
    }
  }
  targets.push(...uncoveredPodTargets(seen));
  return { source: `endpoints/${ns}/${name}`, targets, labels };
}

/** role: endpointslice. One target per endpoint address and port, joined with pods and the service. */
export function endpointSliceGroup(es: EndpointSlice, lookup: Lookup): TargetGroup {
  const ns = es.metadata.namespace ?? '';
  const name = es.metadata.name ?? '';
  const labels: Record<string, string> = {
    [`${META}namespace`]: ns,
    [`${META}endpointslice_name`]: name,
    [`${META}endpointslice_address_type`]: es.addressType ?? '',
  };
  metaLabels('endpointslice', es.metadata, labels);
  const svcName = es.metadata.labels?.['kubernetes.io/service-name'];
  const svc = svcName ? lookup.service(ns, svcName) : undefined;
  if (svc) Object.assign(labels, serviceLabels(svc));
  const targets: Array<Record<string, string>> = [];
  const seen = new Map<string, { pod: Pod; ports: Set<string> }>();
  for (const port of es.ports ?? []) {
    for (const ep of es.endpoints ?? []) {
      for (const addr of ep.addresses) {
        const t: Record<string, string> = {
          __address__: joinHostPort(addr, port.port ?? 0),
          [`${META}endpointslice_port`]: String(port.port ?? ''),
          [`${META}endpointslice_port_name`]: port.name ?? '',
          [`${META}endpointslice_port_protocol`]: port.protocol ?? 'TCP',
        };
        if (port.appProtocol) t[`${META}endpointslice_port_app_protocol`] = port.appProtocol;
        const cond = ep.conditions ?? {};
        if (cond.ready !== undefined)
          t[`${META}endpointslice_endpoint_conditions_ready`] = String(cond.ready);
        if (cond.serving !== undefined)
          t[`${META}endpointslice_endpoint_conditions_serving`] = String(cond.serving);
        if (cond.terminating !== undefined)
          t[`${META}endpointslice_endpoint_conditions_terminating`] = String(cond.terminating);
        if (ep.hostname) t[`${META}endpointslice_endpoint_hostname`] = ep.hostname;
        if (ep.nodeName) t[`${META}endpointslice_endpoint_node_name`] = ep.nodeName;
        if (ep.zone) t[`${META}endpointslice_endpoint_zone`] = ep.zone;
        for (const [k, v] of Object.entries(ep.deprecatedTopology ?? {})) {
          t[`${META}endpointslice_endpoint_topology_${sanitizeLabelName(k)}`] = v;
          t[`${META}endpointslice_endpoint_topology_present_${sanitizeLabelName(k)}`] = 'true';
        }
        if (ep.targetRef) {
          t[`${META}endpointslice_address_target_kind`] = ep.targetRef.kind ?? '';
          t[`${META}endpointslice_address_target_name`] = ep.targetRef.name ?? '';
        }
        joinPod(lookup, ep.targetRef, ns, port.port ?? 0, t, seen);
        targets.push(t);
      }
    }
  }
  targets.push(...uncoveredPodTargets(seen));
  return { source: `endpointslice/${ns}/${name}`, targets, labels };
}

/** role: ingress. One target per rule path, addressed by the rule's host. */
export function ingressGroup(ing: Ingress): TargetGroup {
  const ns = ing.metadata.namespace ?? '';
  const name = ing.metadata.name ?? '';
  const labels: Record<string, string> = {
    [`${META}namespace`]: ns,
    [`${META}ingress_name`]: name,
  };
  if (ing.spec?.ingressClassName) labels[`${META}ingress_class_name`] = ing.spec.ingressClassName;
  metaLabels('ingress', ing.metadata, labels);
  const tlsHosts = (ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []);
  const targets: Array<Record<string, string>> = [];
  for (const rule of ing.spec?.rules ?? []) {
    const host = rule.host ?? '';
    const scheme = tlsHosts.some((h) => matchesHost(h, host)) ? 'https' : 'http';
    const paths = rule.http?.paths?.length ? rule.http.paths.map((p) => p.path || '/') : ['/'];
    for (const path of paths)
      targets.push({
        __address__: host,
        [`${META}ingress_scheme`]: scheme,
        [`${META}ingress_host`]: host,
        [`${META}ingress_path`]: path,
      });
  }
  return { source: `ingress/${ns}/${name}`, targets, labels };
}

/** A TLS host matches a rule host exactly or through a leading `*.` wildcard. */
function matchesHost(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot) === pattern.slice(1);
}
