import type { Node } from 'yaml';
import {
  HTTP_CLIENT_FIELDS,
  LATER_HTTP_CLIENT_FIELDS,
  parseHTTPClientConfig,
  parseTLSConfig,
} from './http-client.js';
import type { Decoder, Fields } from './yaml-decode.js';

/**
 * Sections of prometheus.yml that upstream has and Pharos does not act on yet. Each is read with
 * upstream's field names, types and checks, so a file Prometheus refuses is refused here too,
 * then warned about once by name: nothing in them takes effect.
 */
export const LATER_SECTIONS = [
  'remote_write',
  'remote_read',
  'storage',
  'tracing',
  'otlp',
  'runtime',
] as const;

/** Headers a remote write or read config may not set (upstream's reservedHeaders). */
const RESERVED_HEADERS = new Set([
  'host',
  'content-encoding',
  'content-length',
  'content-type',
  'user-agent',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'www-authenticate',
  'accept-encoding',
  'x-prometheus-remote-write-version',
  'x-prometheus-remote-read-version',
  // Added by SigV4.
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
]);

const AUTHORIZATION_HEADER =
  'authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter';
const PROTOBUF_MESSAGES = ['prometheus.WriteRequest', 'io.prometheus.write.v2.Request'];
const TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
];
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function checkHeaders(d: Decoder, f: Fields, authorizationMessage: string): void {
  for (const name of Object.keys(f.stringMap('headers'))) {
    const lower = name.toLowerCase();
    if (lower === 'authorization') d.fail(f.raw('headers'), authorizationMessage);
    if (RESERVED_HEADERS.has(lower))
      d.fail(f.raw('headers'), `${name} is a reserved header. It must not be changed`);
  }
}

function url(d: Decoder, f: Fields, section: string): void {
  const u = f.str('url');
  if (u === undefined || u === '') d.fail(f.node, `url for ${section} is empty`);
  try {
    new URL(u);
  } catch {
    d.fail(f.raw('url'), `parse ${JSON.stringify(u)}: invalid URL`);
  }
}

/** A non-negative or positive number field, as a Go int or float would take it. */
function number(d: Decoder, f: Fields, key: string, def: number): number {
  const n = f.raw(key);
  if (n === null) return def;
  const v = Number(f.str(key));
  if (!Number.isFinite(v)) d.fail(n, `${key} must be a number`);
  return v;
}

function parseSigV4(d: Decoder, node: Node | null): void {
  const f = d.fields(node, 'sigv4.SigV4Config', [
    'region',
    'access_key',
    'secret_key',
    'profile',
    'role_arn',
    'external_id',
    'session_name',
    'tags',
    'use_fips_sts_endpoint',
    'service_name',
  ]);
  f.bool('use_fips_sts_endpoint', false);
  const hasRole = f.has('role_arn');
  if (f.has('access_key') !== f.has('secret_key'))
    d.fail(
      node,
      'must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config',
    );
  if (f.has('external_id') && !hasRole)
    d.fail(f.raw('external_id'), 'external_id can only be used with role_arn');
  const session = f.str('session_name');
  if (session !== undefined) {
    if (!hasRole) d.fail(f.raw('session_name'), 'session_name can only be used with role_arn');
    if (!SESSION_NAME.test(session))
      d.fail(
        f.raw('session_name'),
        'session_name must match ^[\\w+=,.@-]{2,64}$ (2-64 alphanumeric and +=,.@- characters)',
      );
  }
  const tags = f.stringMap('tags');
  if (Object.keys(tags).length > 0 && !hasRole) d.fail(f.raw('tags'), 'tags can only be used with role_arn');
  for (const [k, v] of Object.entries(tags)) {
    if (k === '') d.fail(f.raw('tags'), 'tag key must not be empty');
    if (k.length > 128) d.fail(f.raw('tags'), `tag key ${JSON.stringify(k)} exceeds maximum length of 128`);
    if (v.length > 256)
      d.fail(f.raw('tags'), `tag value for key ${JSON.stringify(k)} exceeds maximum length of 256`);
  }
}

function parseAzureAD(d: Decoder, node: Node | null): void {
  const f = d.fields(node, 'azuread.AzureADConfig', [
    'managed_identity',
    'workload_identity',
    'oauth',
    'sdk',
    'certificate',
    'cloud',
    'scope',
  ]);
  const cloud = f.str('cloud', 'AzurePublic');
  if (!['AzureChina', 'AzureGovernment', 'AzurePublic'].includes(cloud))
    d.fail(f.raw('cloud'), 'must provide a cloud in the Azure AD config');
  const methods = ['managed_identity', 'workload_identity', 'oauth', 'sdk', 'certificate'].filter((m) =>
    f.has(m),
  );
  if (methods.length === 0)
    d.fail(
      node,
      'must provide an Azure Managed Identity, Azure Workload Identity, Azure OAuth, Azure Certificate or Azure SDK in the Azure AD config',
    );
  if (methods.length > 1)
    d.fail(node, 'cannot provide multiple authentication methods in the Azure AD config');
  const sub = (key: string, type: string, fields: string[]) => d.fields(f.raw(key), type, fields);
  const uuid = (s: Fields, key: string, what: string) => {
    const v = s.str(key);
    if (v !== undefined && v !== '' && !UUID.test(v))
      d.fail(s.raw(key), `the provided Azure ${what} ${key} is invalid`);
  };
  const required = (s: Fields, key: string, what: string) => {
    if ((s.str(key) ?? '') === '')
      d.fail(s.node, `must provide an Azure ${what} ${key} in the Azure AD config`);
  };
  if (f.has('managed_identity'))
    uuid(
      sub('managed_identity', 'azuread.ManagedIdentityConfig', ['client_id']),
      'client_id',
      'Managed Identity',
    );
  if (f.has('workload_identity')) {
    const w = sub('workload_identity', 'azuread.WorkloadIdentityConfig', [
      'client_id',
      'tenant_id',
      'token_file_path',
    ]);
    required(w, 'client_id', 'Workload Identity');
    required(w, 'tenant_id', 'Workload Identity');
    uuid(w, 'client_id', 'Workload Identity');
    uuid(w, 'tenant_id', 'Workload Identity');
  }
  if (f.has('oauth')) {
    const o = sub('oauth', 'azuread.OAuthConfig', ['client_id', 'client_secret', 'tenant_id']);
    for (const k of ['client_id', 'client_secret', 'tenant_id']) required(o, k, 'OAuth');
    uuid(o, 'client_id', 'OAuth');
  }
  if (f.has('sdk')) sub('sdk', 'azuread.SDKConfig', ['tenant_id']);
  if (f.has('certificate')) {
    const c = sub('certificate', 'azuread.CertificateConfig', [
      'client_id',
      'tenant_id',
      'certificate_path',
      'certificate_key_path',
      'certificate_password',
      'send_certificate_chain',
    ]);
    for (const k of ['client_id', 'tenant_id', 'certificate_path']) required(c, k, 'Certificate');
    c.bool('send_certificate_chain', false);
  }
}

function parseQueueConfig(d: Decoder, node: Node | null): void {
  const f = d.fields(node, 'config.QueueConfig', [
    'capacity',
    'max_shards',
    'min_shards',
    'max_samples_per_send',
    'batch_send_deadline',
    'min_backoff',
    'max_backoff',
    'retry_on_http_429',
    'sample_age_limit',
  ]);
  const maxShards = f.int('max_shards', 50);
  const minShards = f.int('min_shards', 1);
  const perSend = f.int('max_samples_per_send', 2000);
  const capacity = f.int('capacity', 10000);
  f.duration('batch_send_deadline', 5000);
  const minBackoff = f.duration('min_backoff', 30);
  const maxBackoff = f.duration('max_backoff', 5000);
  f.bool('retry_on_http_429', false);
  f.duration('sample_age_limit', 0);
  if (maxShards <= 0) d.fail(node, 'remote write queue max_shards must be positive');
  if (minShards <= 0) d.fail(node, 'remote write queue min_shards must be positive');
  if (minShards > maxShards)
    d.fail(node, 'remote write queue min_shards must not be greater than max_shards');
  if (perSend <= 0) d.fail(node, 'remote write queue max_samples_per_send must be positive');
  if (capacity <= 0) d.fail(node, 'remote write queue capacity must be positive');
  if (maxBackoff < minBackoff)
    d.fail(node, 'remote write queue max_backoff must not be less than min_backoff');
}

/** The auth methods configured in a remote write config: upstream takes at most one. */
function authMethods(f: Fields): string[] {
  return ['basic_auth', 'authorization', 'oauth2', 'sigv4', 'azuread', 'google_iam'].filter((k) => f.has(k));
}

function checkRemoteWrite(d: Decoder, node: Node, relabel: (nodes: readonly Node[]) => void): string {
  const f = d.fields(node, 'config.RemoteWriteConfig', [
    'url',
    'remote_timeout',
    'headers',
    'write_relabel_configs',
    'name',
    'send_exemplars',
    'send_native_histograms',
    'round_robin_dns',
    'protobuf_message',
    'failed_request_logging',
    'queue_config',
    'metadata_config',
    'sigv4',
    'azuread',
    'google_iam',
    ...HTTP_CLIENT_FIELDS,
    ...LATER_HTTP_CLIENT_FIELDS,
  ]);
  url(d, f, 'remote_write');
  f.duration('remote_timeout', 30_000);
  relabel(f.seq('write_relabel_configs'));
  checkHeaders(d, f, AUTHORIZATION_HEADER);
  for (const k of ['send_exemplars', 'send_native_histograms', 'round_robin_dns', 'failed_request_logging'])
    f.bool(k, false);
  const message = f.str('protobuf_message', 'prometheus.WriteRequest');
  if (!PROTOBUF_MESSAGES.includes(message))
    d.fail(
      f.raw('protobuf_message'),
      `invalid protobuf_message value: unknown type for remote write protobuf message ${message}, supported: ${PROTOBUF_MESSAGES.join(', ')}`,
    );
  parseHTTPClientConfig(d, f);
  parseQueueConfig(d, f.raw('queue_config'));
  const m = d.fields(f.raw('metadata_config'), 'config.MetadataConfig', [
    'send',
    'send_interval',
    'max_samples_per_send',
  ]);
  m.bool('send', true);
  m.duration('send_interval', 60_000);
  m.int('max_samples_per_send', 2000);
  if (f.has('sigv4')) parseSigV4(d, f.raw('sigv4'));
  if (f.has('azuread')) parseAzureAD(d, f.raw('azuread'));
  if (f.has('google_iam')) d.fields(f.raw('google_iam'), 'googleiam.Config', ['credentials_file']);
  const auth = authMethods(f);
  if (auth.length > 1)
    d.fail(
      node,
      `at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [${auth.join(' ')}]`,
    );
  return f.str('name', '');
}

function checkRemoteRead(d: Decoder, node: Node): string {
  const f = d.fields(node, 'config.RemoteReadConfig', [
    'url',
    'remote_timeout',
    'chunked_read_limit',
    'headers',
    'read_recent',
    'name',
    'required_matchers',
    'filter_external_labels',
    ...HTTP_CLIENT_FIELDS,
    ...LATER_HTTP_CLIENT_FIELDS,
  ]);
  url(d, f, 'remote_read');
  f.duration('remote_timeout', 60_000);
  f.int('chunked_read_limit', 5e7);
  checkHeaders(d, f, AUTHORIZATION_HEADER);
  f.bool('read_recent', false);
  f.bool('filter_external_labels', true);
  f.labelMap('required_matchers');
  parseHTTPClientConfig(d, f);
  return f.str('name', '');
}

function checkStorage(d: Decoder, node: Node | null): void {
  const f = d.fields(node, 'config.StorageConfig', ['tsdb', 'exemplars']);
  const t = d.fields(f.raw('tsdb'), 'config.TSDBConfig', [
    'out_of_order_time_window',
    'stale_series_compaction_threshold',
    'chunk_encoding',
    'retention',
  ]);
  t.duration('out_of_order_time_window', 0);
  number(d, t, 'stale_series_compaction_threshold', 0);
  const floats = d
    .fields(t.raw('chunk_encoding'), 'config.ChunkEncodingConfig', ['floats'])
    .str('floats', '');
  if (!['', 'xor', 'xor2'].includes(floats))
    d.fail(
      t.raw('chunk_encoding'),
      `'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got ${JSON.stringify(floats)}`,
    );
  const r = d.fields(t.raw('retention'), 'config.TSDBRetentionConfig', ['time', 'size', 'percentage']);
  r.duration('time', 0);
  r.bytes('size', 0);
  const pct = number(d, r, 'percentage', 0);
  if (pct < 0 || pct > 100)
    d.fail(
      r.raw('percentage'),
      `'storage.tsdb.retention.percentage' must be in the range [0, 100], got ${pct}`,
    );
  const e = d.fields(f.raw('exemplars'), 'config.ExemplarsConfig', ['max_exemplars']);
  number(d, e, 'max_exemplars', 100_000);
}

function checkTracing(d: Decoder, node: Node | null): void {
  const f = d.fields(node, 'config.TracingConfig', [
    'client_type',
    'endpoint',
    'sampling_fraction',
    'insecure',
    'tls_config',
    'headers',
    'compression',
    'timeout',
  ]);
  const type = f.str('client_type', 'grpc');
  if (type !== 'http' && type !== 'grpc')
    d.fail(f.raw('client_type'), `expected tracing client type to be to be http or grpc, but got ${type}`);
  number(d, f, 'sampling_fraction', 0);
  f.bool('insecure', false);
  parseTLSConfig(d, f.raw('tls_config'));
  checkHeaders(d, f, 'custom authorization header configuration is not yet supported');
  if ((f.str('endpoint') ?? '') === '') d.fail(node, 'tracing endpoint must be set');
  const compression = f.str('compression', '');
  if (compression !== '' && compression !== 'gzip')
    d.fail(f.raw('compression'), `invalid compression type ${compression} provided, valid options: gzip`);
  f.duration('timeout', 0);
}

function checkOTLP(d: Decoder, node: Node | null): void {
  const f = d.fields(node, 'config.OTLPConfig', [
    'promote_all_resource_attributes',
    'promote_resource_attributes',
    'ignore_resource_attributes',
    'translation_strategy',
    'keep_identifying_resource_attributes',
    'convert_histograms_to_nhcb',
    'promote_scope_metadata',
    'label_name_underscore_sanitization',
    'label_name_preserve_multiple_underscores',
  ]);
  for (const k of [
    'keep_identifying_resource_attributes',
    'convert_histograms_to_nhcb',
    'promote_scope_metadata',
    'label_name_underscore_sanitization',
    'label_name_preserve_multiple_underscores',
  ])
    f.bool(k, false);
  const strategy = f.str('translation_strategy', 'UnderscoreEscapingWithSuffixes');
  if (!TRANSLATION_STRATEGIES.includes(strategy))
    d.fail(
      f.raw('translation_strategy'),
      `unsupported OTLP translation strategy ${JSON.stringify(strategy)}`,
    );
  const all = f.bool('promote_all_resource_attributes', false);
  const promote = f.strList('promote_resource_attributes');
  const ignore = f.strList('ignore_resource_attributes');
  const sanitize = (attrs: string[], adjective: string, key: string) => {
    const seen = new Set<string>();
    for (const a of attrs.map((x) => x.trim())) {
      if (a === '') d.fail(f.raw(key), `invalid '${key}': empty ${adjective} OTel resource attribute`);
      if (seen.has(a))
        d.fail(
          f.raw(key),
          `invalid '${key}': duplicated ${adjective} OTel resource attribute ${JSON.stringify(a)}`,
        );
      seen.add(a);
    }
  };
  if (all) {
    if (promote.length > 0)
      d.fail(
        f.node,
        "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously",
      );
    sanitize(ignore, 'ignored', 'ignore_resource_attributes');
  } else {
    if (ignore.length > 0)
      d.fail(
        f.raw('ignore_resource_attributes'),
        "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true",
      );
    sanitize(promote, 'promoted', 'promote_resource_attributes');
  }
}

/**
 * Checks every later section that is present, as upstream checks it, and warns once per section
 * that it is not acted on. `relabel` checks write_relabel_configs as relabel_configs are checked.
 */
export function checkLaterSections(d: Decoder, top: Fields, relabel: (nodes: readonly Node[]) => void): void {
  // What each section's own fields would add to the warnings is said by the section's one line.
  const before = d.warnings.length;
  const names = (what: string, list: string[]) => {
    const seen = new Set<string>();
    for (const n of list) {
      if (n === '') continue;
      if (seen.has(n))
        d.fail(
          top.raw(what),
          `found multiple ${what.replace('_', ' ')} configs with job name ${JSON.stringify(n)}`,
        );
      seen.add(n);
    }
  };
  names(
    'remote_write',
    top.seq('remote_write').map((n) => {
      if (n == null) d.fail(top.raw('remote_write'), 'empty or null remote write config section');
      return checkRemoteWrite(d, n, relabel);
    }),
  );
  names(
    'remote_read',
    top.seq('remote_read').map((n) => {
      if (n == null) d.fail(top.raw('remote_read'), 'empty or null remote read config section');
      return checkRemoteRead(d, n);
    }),
  );
  if (top.has('storage')) checkStorage(d, top.raw('storage'));
  if (top.has('tracing')) checkTracing(d, top.raw('tracing'));
  if (top.has('otlp')) checkOTLP(d, top.raw('otlp'));
  if (top.has('runtime')) d.fields(top.raw('runtime'), 'config.RuntimeConfig', ['gogc']).int('gogc', 75);
  d.warnings.length = before;
  for (const s of LATER_SECTIONS)
    if (top.has(s))
      d.warn(top.raw(s), `config.Config: field ${s} is not supported by Pharos yet and is ignored`);
}
