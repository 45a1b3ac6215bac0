import { dirname, isAbsolute, join } from 'node:path';
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { readConfigFile } from './prometheus.js';
import { Decoder } from './yaml-decode.js';

/**
 * The `--web.config.file` format every Prometheus server shares (exporter-toolkit): TLS, extra
 * response headers, a rate limit and bcrypt basic auth users.
 */
export interface WebConfig {
  /** Absent: plain HTTP, as exporter-toolkit serves when no TLS field is set. */
  readonly tls?: WebTLSConfig;
  readonly http2: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** Interval 0 disables the limiter. */
  readonly rateLimit: { readonly interval: number; readonly burst: number };
  /** User name to bcrypt hash; empty means no authentication. */
  readonly users: Readonly<Record<string, string>>;
}

export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

export interface WebTLSConfig {
  /** PEM text, inline or from a file (paths relative to the web config file's directory). */
  readonly cert: PemSource;
  readonly key: PemSource;
  readonly clientCA?: PemSource;
  readonly clientAuth: ClientAuthType;
  readonly clientAllowedSans?: readonly string[];
  readonly minVersion: TLSVersionName;
  readonly maxVersion: TLSVersionName;
  /** OpenSSL names of the Go cipher suite names given. */
  readonly ciphers?: readonly string[];
  /** OpenSSL curve names of the Go curve names given. */
  readonly curves?: readonly string[];
  readonly preferServerCipherSuites: boolean;
}

export type PemSource = { readonly inline: string } | { readonly file: string };
export type TLSVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

const TLS_VERSIONS: Record<string, TLSVersionName> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

// Go's tls.CipherSuites(), by the names the file uses, to what OpenSSL calls them. TLS 1.3 suites
// are not configurable in Go and are listed only so that naming them is not an error.
const CIPHERS: Record<string, string | null> = {
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

const CURVES: Record<string, string> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

const CLIENT_AUTH: Record<string, ClientAuthType> = {
  '': 'NoClientCert',
  NoClientCert: 'NoClientCert',
  RequestClientCert: 'RequestClientCert',
  RequireAnyClientCert: 'RequireAnyClientCert',
  // Still accepted upstream for old files.
  RequireClientCert: 'RequireAnyClientCert',
  VerifyClientCertIfGiven: 'VerifyClientCertIfGiven',
  RequireAndVerifyClientCert: 'RequireAndVerifyClientCert',
};

/** Headers a web config may add, with the values allowed where the header is an enumeration. */
const EXTRA_HEADERS: Record<string, readonly string[] | null> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

const BCRYPT_HASH = /^\$2[abxy]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** Why a bcrypt hash is unusable, in the words of Go's crypto/bcrypt, or undefined when it is fine. */
export function bcryptHashProblem(hash: string): string | undefined {
  if (!hash.startsWith('$'))
    return `crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with '${hash.slice(0, 1)}'`;
  if (hash.length < 59) return 'crypto/bcrypt: hashedSecret too short to be a bcrypted password';
  const m = BCRYPT_HASH.exec(hash);
  if (!m) return 'crypto/bcrypt: hashedSecret is not a bcrypt hash';
  const cost = Number(m[1]);
  if (cost < 4 || cost > 31) return `crypto/bcrypt: cost ${cost} is outside allowed range (4,31)`;
  return undefined;
}

export function parseWebConfig(text: string, file: string): WebConfig {
  const d: Decoder = new Decoder(file, text);
  const top = d.fields(d.root, 'web.Config', [
    'tls_server_config',
    'http_server_config',
    'rate_limit',
    'basic_auth_users',
  ]);
  const base = dirname(file);
  const resolve = (p: string) => (isAbsolute(p) ? p : join(base, p));

  const t = d.fields(top.raw('tls_server_config'), 'web.TLSConfig', [
    'cert',
    'key',
    'client_ca',
    'cert_file',
    'key_file',
    'client_auth_type',
    'client_ca_file',
    'cipher_suites',
    'curve_preferences',
    'min_version',
    'max_version',
    'prefer_server_cipher_suites',
    'client_allowed_sans',
  ]);
  const pem = (inlineKey: string, fileKey: string): PemSource | undefined => {
    const inline = t.str(inlineKey);
    const path = t.str(fileKey);
    if (path) return { file: resolve(path) };
    return inline ? { inline } : undefined;
  };
  const cert = pem('cert', 'cert_file');
  const key = pem('key', 'key_file');
  const clientCA = pem('client_ca', 'client_ca_file');
  const clientAuthName = t.str('client_auth_type');
  let tls: WebTLSConfig | undefined;
  if (cert || key || clientCA || clientAuthName) {
    const where = top.raw('tls_server_config');
    if (!cert) d.fail(where, 'missing one of cert or cert_file');
    if (!key) d.fail(where, 'missing one of key or key_file');
    const clientAuth = CLIENT_AUTH[clientAuthName ?? ''];
    if (!clientAuth) d.fail(t.raw('client_auth_type'), `invalid ClientAuth: ${clientAuthName}`);
    if (clientCA && clientAuth === 'NoClientCert')
      d.fail(where, "client CA's have been configured without a Client Auth Policy");
    const sans = t.has('client_allowed_sans') ? t.strList('client_allowed_sans') : undefined;
    if (sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert')
      d.fail(
        t.raw('client_allowed_sans'),
        'client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert',
      );
    const version = (k: string, def: string): TLSVersionName => {
      const name = t.str(k, def);
      const v = TLS_VERSIONS[name];
      if (!v) d.fail(t.raw(k), `unknown TLS version: ${name}`);
      return v;
    };
    const ciphers = t.strList('cipher_suites').map((name, i) => {
      if (!(name in CIPHERS)) d.fail(t.seq('cipher_suites')[i], `unknown cipher: ${name}`);
      return CIPHERS[name];
    });
    const curves = t.strList('curve_preferences').map((name, i) => {
      const c = CURVES[name];
      if (!c) d.fail(t.seq('curve_preferences')[i], `unknown curve: ${name}`);
      return c;
    });
    const openssl = ciphers.filter((c): c is string => c !== null);
    tls = {
      cert,
      key,
      ...(clientCA ? { clientCA } : {}),
      clientAuth,
      ...(sans ? { clientAllowedSans: sans } : {}),
      minVersion: version('min_version', 'TLS12'),
      maxVersion: version('max_version', 'TLS13'),
      ...(openssl.length > 0 ? { ciphers: openssl } : {}),
      ...(curves.length > 0 ? { curves } : {}),
      preferServerCipherSuites: t.bool('prefer_server_cipher_suites', true),
    };
  }

  const h = d.fields(top.raw('http_server_config'), 'web.HTTPConfig', ['http2', 'headers']);
  const headers = h.stringMap('headers');
  for (const [name, value] of Object.entries(headers)) {
    const allowed = EXTRA_HEADERS[name];
    if (allowed === undefined)
      d.fail(h.raw('headers'), `HTTP header ${JSON.stringify(name)} can not be configured`);
    if (allowed && !allowed.includes(value))
      d.fail(
        h.raw('headers'),
        `invalid value for ${name}. Expected one of: [${allowed.map((a) => JSON.stringify(a)).join(' ')}], but got: ${JSON.stringify(value)}`,
      );
  }

  const r = d.fields(top.raw('rate_limit'), 'web.RateLimiterConfig', ['interval', 'burst']);
  const users: Record<string, string> = {};
  const usersNode = top.raw('basic_auth_users');
  if (usersNode && !(isScalar(usersNode) && usersNode.value == null)) {
    if (!isMap(usersNode))
      d.fail(usersNode, 'basic_auth_users must be a mapping of user names to bcrypt hashes');
    for (const item of (usersNode as YAMLMap).items as Array<Pair<Node, Node>>) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      const hash = isScalar(item.value) && item.value.value != null ? String(item.value.value) : '';
      const problem = bcryptHashProblem(hash);
      if (problem) d.fail(item.value ?? item.key, problem);
      users[name] = hash;
    }
  }
  return {
    ...(tls ? { tls } : {}),
    http2: h.bool('http2', true),
    headers,
    rateLimit: { interval: r.duration('interval', 0), burst: r.int('burst', 0) },
    users,
  };
}

export function loadWebConfig(path: string): WebConfig {
  return parseWebConfig(readConfigFile(path), path);
}
