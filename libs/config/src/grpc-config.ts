import { parseBasicAuth, parseClientTLS, relativeTo, type BasicAuth, type TLSConfig } from './http-client.js';
import { readConfigFile } from './prometheus.js';
import { parseWebConfig, type PemSource, type WebConfig } from './web-config.js';
import { ConfigError, Decoder } from './yaml-decode.js';

/**
 * `--grpc.config.file`: the `--web.config.file` format, for a role's gRPC server. Only what gRPC
 * can apply is accepted; the rest is refused by name rather than silently ignored.
 */
export interface GrpcServerConfig {
  /** Absent: plaintext gRPC. */
  readonly tls?: {
    readonly cert: PemSource;
    readonly key: PemSource;
    readonly clientCA?: PemSource;
    /** RequireAndVerifyClientCert; grpc-js offers no other client-certificate mode. */
    readonly requireClientCert: boolean;
  };
  /** User name to bcrypt hash, checked against each call's `authorization` metadata. */
  readonly users: Readonly<Record<string, string>>;
}

export function parseGrpcServerConfig(text: string, file: string): GrpcServerConfig {
  const web = parseWebConfig(text, file);
  const refuse = (what: string) => {
    throw new ConfigError(file, 0, `${what}: not supported on gRPC`);
  };
  if (Object.keys(web.headers).length > 0) refuse('http_server_config.headers');
  if (web.rateLimit.interval > 0) refuse('rate_limit');
  return grpcTLSAndUsers(web, file);
}

/**
 * The gRPC server of a process whose --web.config.file is its only security config: the same
 * TLS and users as its web server, so a locked web UI does not leave gRPC open. What gRPC has no
 * counterpart for (HTTP response headers, the rate limiter) is named in `notCarried`.
 */
export function grpcServerConfigFromWeb(
  web: WebConfig,
  file: string,
): {
  config: GrpcServerConfig;
  notCarried: string[];
} {
  const notCarried: string[] = [];
  if (Object.keys(web.headers).length > 0) notCarried.push('http_server_config.headers');
  if (web.rateLimit.interval > 0) notCarried.push('rate_limit');
  return { config: grpcTLSAndUsers(web, file), notCarried };
}

function grpcTLSAndUsers(web: WebConfig, file: string): GrpcServerConfig {
  const refuse = (what: string) => {
    throw new ConfigError(file, 0, `${what}: not supported on gRPC`);
  };
  const t = web.tls;
  if (!t) return { users: web.users };
  if (t.clientAuth !== 'NoClientCert' && t.clientAuth !== 'RequireAndVerifyClientCert')
    refuse(`client_auth_type ${t.clientAuth} (use RequireAndVerifyClientCert or NoClientCert)`);
  if (t.clientAllowedSans) refuse('client_allowed_sans');
  if (t.ciphers || t.curves) refuse('cipher_suites, curve_preferences');
  if (t.minVersion !== 'TLSv1.2' || t.maxVersion !== 'TLSv1.3') refuse('min_version, max_version');
  if (t.clientAuth === 'RequireAndVerifyClientCert' && !t.clientCA)
    throw new ConfigError(file, 0, 'RequireAndVerifyClientCert needs client_ca_file on gRPC');
  return {
    tls: {
      cert: t.cert,
      key: t.key,
      ...(t.clientCA ? { clientCA: t.clientCA } : {}),
      requireClientCert: t.clientAuth === 'RequireAndVerifyClientCert',
    },
    users: web.users,
  };
}

export function loadGrpcServerConfig(path: string): GrpcServerConfig {
  return parseGrpcServerConfig(readConfigFile(path), path);
}

/**
 * `--grpc.client-config.file`: how a role calls other roles' gRPC servers, in the shape of a
 * scrape config's HTTP client fields. A `tls_config` key turns TLS on; `basic_auth` is sent with
 * every call, and needs TLS because grpc-js sends call credentials only over a secure channel.
 */
export interface GrpcClientConfig {
  readonly tls?: TLSConfig;
  readonly basicAuth?: BasicAuth;
}

export function parseGrpcClientConfig(text: string, file: string): GrpcClientConfig {
  const d: Decoder = new Decoder(file, text);
  const f = d.fields(d.root, 'grpc.ClientConfig', ['tls_config', 'basic_auth']);
  const resolve = relativeTo(file);
  const tls = parseClientTLS(d, f, file);
  if (tls && (tls.minVersion !== undefined || tls.maxVersion !== undefined))
    d.fail(f.raw('tls_config'), 'min_version, max_version: not supported on gRPC');
  let basicAuth: BasicAuth | undefined;
  if (f.has('basic_auth')) {
    const b = parseBasicAuth(d, f.raw('basic_auth'));
    if (!tls)
      d.fail(f.raw('basic_auth'), 'basic_auth needs tls_config: gRPC sends credentials only over TLS');
    basicAuth = { username: resolve(b.username), password: resolve(b.password) };
  }
  return { ...(tls ? { tls } : {}), ...(basicAuth ? { basicAuth } : {}) };
}

export function loadGrpcClientConfig(path: string): GrpcClientConfig {
  return parseGrpcClientConfig(readConfigFile(path), path);
}
