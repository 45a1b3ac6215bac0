import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Node } from 'yaml';
import type { Decoder, Fields } from './yaml-decode.js';

/** A secret given inline or as a file read at each use, as Prometheus' config.Secret / *_file. */
export interface SecretRef {
  readonly value?: string;
  readonly file?: string;
}

/** Secrets given as files are read at each use, so a rotated token applies without a reload. */
export function readSecret(s: SecretRef | undefined): string | undefined {
  if (!s) return undefined;
  if (s.value !== undefined) return s.value;
  return s.file !== undefined ? readFileSync(s.file, 'utf8').trim() : undefined;
}

export interface TLSConfig {
  readonly ca?: SecretRef;
  readonly cert?: SecretRef;
  readonly key?: SecretRef;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
  readonly minVersion?: 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';
  readonly maxVersion?: 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';
}

/** The HTTP client settings scrape configs and HTTP-based discovery share (common/config.HTTPClientConfig). */
export interface HTTPClientConfig {
  readonly basicAuth?: { readonly username?: SecretRef; readonly password?: SecretRef };
  readonly authorization?: { readonly type: string; readonly credentials?: SecretRef };
  readonly tls: TLSConfig;
  readonly followRedirects: boolean;
  readonly enableHTTP2: boolean;
}

export const HTTP_CLIENT_FIELDS = [
  'basic_auth',
  'authorization',
  'tls_config',
  'follow_redirects',
  'enable_http2',
] as const;

/** Accepted upstream, not acted on yet: loaded with a warning. */
export const LATER_HTTP_CLIENT_FIELDS = [
  'oauth2',
  'proxy_url',
  'no_proxy',
  'proxy_from_environment',
  'proxy_connect_header',
  'http_headers',
] as const;

const TLS_VERSIONS = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;

/** A secret given as `key` or `key_file`, at most one of them. */
export function secretField(d: Decoder, f: Fields, key: string, what: string): SecretRef | undefined {
  const inline = f.str(key);
  const file = f.str(`${key}_file`);
  if (inline !== undefined && file !== undefined)
    d.fail(f.raw(key), `at most one of ${what} ${key} & ${key}_file must be configured`);
  if (inline !== undefined) return { value: inline };
  if (file !== undefined) return { file };
  return undefined;
}

export function parseTLSConfig(d: Decoder, node: Node | null): TLSConfig {
  const f = d.fields(node, 'config.TLSConfig', [
    'ca',
    'ca_file',
    'cert',
    'cert_file',
    'key',
    'key_file',
    'server_name',
    'insecure_skip_verify',
    'min_version',
    'max_version',
  ]);
  const version = (key: string): TLSConfig['minVersion'] => {
    const v = f.str(key);
    if (v === undefined) return undefined;
    if (!(TLS_VERSIONS as readonly string[]).includes(v)) d.fail(f.raw(key), `unknown TLS version: ${v}`);
    return v as TLSConfig['minVersion'];
  };
  const cert = secretField(d, f, 'cert', 'tls_config');
  const key = secretField(d, f, 'key', 'tls_config');
  if (cert && !key)
    d.fail(node, 'exactly one of key or key_file must be configured when a client certificate is configured');
  if (key && !cert)
    d.fail(node, 'exactly one of cert or cert_file must be configured when a client key is configured');
  return {
    ca: secretField(d, f, 'ca', 'tls_config'),
    cert,
    key,
    serverName: f.str('server_name'),
    insecureSkipVerify: f.bool('insecure_skip_verify', false),
    minVersion: version('min_version'),
    maxVersion: version('max_version'),
  };
}

export type BasicAuth = NonNullable<HTTPClientConfig['basicAuth']>;

export function parseBasicAuth(d: Decoder, node: Node | null): BasicAuth {
  const b = d.fields(node, 'config.BasicAuth', ['username', 'username_file', 'password', 'password_file']);
  return {
    username: secretField(d, b, 'username', 'basic_auth'),
    password: secretField(d, b, 'password', 'basic_auth'),
  };
}

/** Reads the HTTP client fields of an enclosing mapping (a scrape config or an SD config). */
export function parseHTTPClientConfig(d: Decoder, f: Fields): HTTPClientConfig {
  const basicAuth = f.has('basic_auth') ? parseBasicAuth(d, f.raw('basic_auth')) : undefined;
  let authorization: HTTPClientConfig['authorization'];
  if (f.has('authorization')) {
    const a = d.fields(f.raw('authorization'), 'config.Authorization', [
      'type',
      'credentials',
      'credentials_file',
    ]);
    const type = a.str('type', 'Bearer');
    if (type.toLowerCase() === 'basic')
      d.fail(a.raw('type'), `authorization type cannot be set to "basic", use "basic_auth" instead`);
    authorization = { type, credentials: secretField(d, a, 'credentials', 'authorization') };
  }
  if (basicAuth && authorization)
    d.fail(f.raw('authorization'), 'at most one of basic_auth, oauth2 & authorization must be configured');
  return {
    basicAuth,
    authorization,
    tls: parseTLSConfig(d, f.raw('tls_config')),
    followRedirects: f.bool('follow_redirects', true),
    enableHTTP2: f.bool('enable_http2', true),
  };
}

/** Paths in a role's client config file are relative to that file, as prometheus.yml's are. */
export function relativeTo(file: string): (s: SecretRef | undefined) => SecretRef | undefined {
  const base = dirname(file);
  return (s) => (s?.file !== undefined && !isAbsolute(s.file) ? { file: join(base, s.file) } : s);
}

/** A client config file's optional `tls_config`: present turns TLS on. */
export function parseClientTLS(d: Decoder, f: Fields, file: string): TLSConfig | undefined {
  if (!f.has('tls_config')) return undefined;
  const t = parseTLSConfig(d, f.raw('tls_config'));
  const resolve = relativeTo(file);
  return { ...t, ca: resolve(t.ca), cert: resolve(t.cert), key: resolve(t.key) };
}

const TLS_VERSION = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

/** Node's TLS client options for a `tls_config`; reads the files it names. */
export function tlsConnectionOptions(t: TLSConfig): ConnectionOptions {
  return {
    ...(t.ca ? { ca: readSecret(t.ca) } : {}),
    ...(t.cert ? { cert: readSecret(t.cert) } : {}),
    ...(t.key ? { key: readSecret(t.key) } : {}),
    ...(t.serverName ? { servername: t.serverName } : {}),
    ...(t.minVersion ? { minVersion: TLS_VERSION[t.minVersion] } : {}),
    ...(t.maxVersion ? { maxVersion: TLS_VERSION[t.maxVersion] } : {}),
    rejectUnauthorized: !t.insecureSkipVerify,
  };
}
