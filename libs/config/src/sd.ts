import type { Node } from 'yaml';
import {
  HTTP_CLIENT_FIELDS,
  LATER_HTTP_CLIENT_FIELDS,
  parseHTTPClientConfig,
  type HTTPClientConfig,
  type SecretRef,
} from './http-client.js';
import type { Decoder } from './yaml-decode.js';

export interface FileSDConfig {
  readonly files: readonly string[];
  readonly refreshInterval: number;
}

export type DNSRecordType = 'SRV' | 'A' | 'AAAA' | 'MX' | 'NS';

export interface DNSSDConfig {
  readonly names: readonly string[];
  readonly type: DNSRecordType;
  readonly port: number;
  readonly refreshInterval: number;
}

export interface ConsulSDConfig {
  readonly server: string;
  readonly pathPrefix: string;
  readonly token?: SecretRef;
  readonly datacenter: string;
  readonly partition: string;
  readonly scheme: 'http' | 'https';
  readonly services: readonly string[];
  readonly tags: readonly string[];
  readonly nodeMeta: Readonly<Record<string, string>>;
  readonly tagSeparator: string;
  readonly allowStale: boolean;
  readonly refreshInterval: number;
  readonly filter: string;
  readonly http: HTTPClientConfig;
}

export const KUBERNETES_ROLES = ['endpoints', 'endpointslice', 'service', 'pod', 'node', 'ingress'] as const;
export type KubernetesRole = (typeof KUBERNETES_ROLES)[number];

export interface KubernetesSelector {
  readonly role: KubernetesRole;
  readonly label: string;
  readonly field: string;
}

export interface KubernetesSDConfig {
  readonly apiServer: string;
  readonly role: KubernetesRole;
  readonly kubeconfigFile: string;
  readonly namespaces: { readonly ownNamespace: boolean; readonly names: readonly string[] };
  readonly selectors: readonly KubernetesSelector[];
  readonly attachMetadata: { readonly node: boolean; readonly namespace: boolean };
  readonly http: HTTPClientConfig;
}

/** The service-discovery configs of one scrape config, by kind. */
export interface ServiceDiscoveryConfigs {
  readonly fileSDConfigs: readonly FileSDConfig[];
  readonly dnsSDConfigs: readonly DNSSDConfig[];
  readonly consulSDConfigs: readonly ConsulSDConfig[];
  readonly kubernetesSDConfigs: readonly KubernetesSDConfig[];
}

export const SUPPORTED_SD_FIELDS = [
  'file_sd_configs',
  'dns_sd_configs',
  'consul_sd_configs',
  'kubernetes_sd_configs',
] as const;

const FILE_SD_PATTERN = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

function parseFileSD(d: Decoder, node: Node): FileSDConfig {
  const f = d.fields(node, 'file.SDConfig', ['files', 'refresh_interval']);
  const files = f.strList('files');
  if (files.length === 0) d.fail(node, 'file service discovery config must contain at least one path name');
  for (const name of files) {
    if (!FILE_SD_PATTERN.test(name))
      d.fail(f.raw('files'), `path name ${JSON.stringify(name)} is not valid for file discovery`);
  }
  return { files, refreshInterval: f.duration('refresh_interval', 5 * 60_000) };
}

function parseDNSSD(d: Decoder, node: Node): DNSSDConfig {
  const f = d.fields(node, 'dns.SDConfig', ['names', 'type', 'port', 'refresh_interval']);
  const names = f.strList('names');
  if (names.length === 0) d.fail(node, 'DNS-SD config must contain at least one SRV record name');
  const type = f.str('type', 'SRV').toUpperCase();
  if (!['SRV', 'A', 'AAAA', 'MX', 'NS'].includes(type))
    d.fail(f.raw('type'), `invalid DNS-SD records type ${type}`);
  const port = f.int('port', 0);
  if (type !== 'SRV' && port === 0)
    d.fail(node, 'a port is required in DNS-SD configs for all record types except SRV');
  return {
    names,
    type: type as DNSRecordType,
    port,
    refreshInterval: f.duration('refresh_interval', 30_000),
  };
}

function parseConsulSD(d: Decoder, node: Node): ConsulSDConfig {
  const f = d.fields(
    node,
    'consul.SDConfig',
    [
      'server',
      'path_prefix',
      'token',
      'datacenter',
      'partition',
      'scheme',
      'services',
      'tags',
      'node_meta',
      'tag_separator',
      'allow_stale',
      'refresh_interval',
      'filter',
      ...HTTP_CLIENT_FIELDS,
    ],
    // namespace (Consul Enterprise): the consul package cannot send it.
    [...LATER_HTTP_CLIENT_FIELDS, 'namespace', 'username', 'password', 'health_filter'],
  );
  const server = f.str('server', 'localhost:8500');
  if (server.trim() === '') d.fail(node, 'consul SD configuration requires a server address');
  const scheme = f.str('scheme', 'http');
  if (scheme !== 'http' && scheme !== 'https')
    d.fail(f.raw('scheme'), `unsupported scheme ${JSON.stringify(scheme)}`);
  const http = parseHTTPClientConfig(d, f);
  const token = f.str('token');
  if (token !== undefined && (http.authorization || http.basicAuth))
    d.fail(node, 'at most one of consul SD token, authorization, or oauth2 can be configured');
  return {
    server,
    pathPrefix: f.str('path_prefix', ''),
    token: token !== undefined ? { value: token } : undefined,
    datacenter: f.str('datacenter', ''),
    partition: f.str('partition', ''),
    scheme,
    services: f.strList('services'),
    tags: f.strList('tags'),
    nodeMeta: f.stringMap('node_meta'),
    tagSeparator: f.str('tag_separator', ','),
    allowStale: f.bool('allow_stale', true),
    refreshInterval: f.duration('refresh_interval', 30_000),
    filter: f.str('filter', ''),
    http,
  };
}

const SELECTOR_ROLES: Record<KubernetesRole, readonly KubernetesRole[]> = {
  pod: ['pod', 'node'],
  service: ['service'],
  endpoints: ['pod', 'service', 'endpoints'],
  endpointslice: ['pod', 'service', 'endpointslice'],
  node: ['node'],
  ingress: ['ingress'],
};

function parseKubernetesSD(d: Decoder, node: Node): KubernetesSDConfig {
  const f = d.fields(
    node,
    'kubernetes.SDConfig',
    [
      'api_server',
      'role',
      'kubeconfig_file',
      'namespaces',
      'selectors',
      'attach_metadata',
      ...HTTP_CLIENT_FIELDS,
    ],
    LATER_HTTP_CLIENT_FIELDS,
  );
  const role = f.str('role', '');
  if (role === '')
    d.fail(node, 'role missing (one of: pod, service, endpoints, endpointslice, node, ingress)');
  if (!(KUBERNETES_ROLES as readonly string[]).includes(role))
    d.fail(f.raw('role'), `unknown Kubernetes SD role ${JSON.stringify(role)}`);
  const apiServer = f.str('api_server', '');
  const kubeconfigFile = f.str('kubeconfig_file', '');
  if (apiServer !== '' && kubeconfigFile !== '')
    d.fail(node, "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
  const http = parseHTTPClientConfig(d, f);
  if (kubeconfigFile !== '' && (http.authorization || http.basicAuth))
    d.fail(node, "cannot use a custom HTTP client configuration together with 'kubeconfig_file'");
  if (apiServer === '' && (http.authorization || http.basicAuth))
    d.fail(node, "to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
  const ns = d.fields(f.raw('namespaces'), 'kubernetes.NamespaceDiscovery', ['own_namespace', 'names']);
  const attach = d.fields(f.raw('attach_metadata'), 'kubernetes.AttachMetadataConfig', ['node', 'namespace']);
  if (attach.bool('node', false) || attach.bool('namespace', false))
    d.warn(
      f.raw('attach_metadata'),
      'kubernetes.SDConfig: attach_metadata is not supported by Pharos yet and is ignored',
    );
  const selectors = f.seq('selectors').map((s): KubernetesSelector => {
    const sf = d.fields(s, 'kubernetes.SelectorConfig', ['role', 'label', 'field']);
    const srole = sf.str('role', '');
    if (!(SELECTOR_ROLES[role as KubernetesRole] as readonly string[]).includes(srole)) {
      d.fail(
        sf.raw('role') ?? s,
        `${role} role supports only ${SELECTOR_ROLES[role as KubernetesRole].join(', ')} selectors`,
      );
    }
    return { role: srole as KubernetesRole, label: sf.str('label', ''), field: sf.str('field', '') };
  });
  const seen = new Set<string>();
  for (const s of selectors) {
    if (seen.has(s.role)) d.fail(f.raw('selectors'), `duplicated selector role: ${s.role}`);
    seen.add(s.role);
  }
  return {
    apiServer,
    role: role as KubernetesRole,
    kubeconfigFile,
    namespaces: { ownNamespace: ns.bool('own_namespace', false), names: ns.strList('names') },
    selectors,
    attachMetadata: { node: attach.bool('node', false), namespace: attach.bool('namespace', false) },
    http,
  };
}

/** Reads the supported `*_sd_configs` lists of a scrape config. */
export function parseServiceDiscovery(d: Decoder, seq: (key: string) => Node[]): ServiceDiscoveryConfigs {
  return {
    fileSDConfigs: seq('file_sd_configs').map((n) => parseFileSD(d, n)),
    dnsSDConfigs: seq('dns_sd_configs').map((n) => parseDNSSD(d, n)),
    consulSDConfigs: seq('consul_sd_configs').map((n) => parseConsulSD(d, n)),
    kubernetesSDConfigs: seq('kubernetes_sd_configs').map((n) => parseKubernetesSD(d, n)),
  };
}
