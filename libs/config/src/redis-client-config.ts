import { parseClientTLS, relativeTo, secretField, type SecretRef, type TLSConfig } from './http-client.js';
import { readConfigFile } from './prometheus.js';
import { Decoder } from './yaml-decode.js';

/**
 * `--redis.client-config.file`: TLS (a `tls_config` key turns it on, as does a rediss:// URL) and
 * an ACL user or password, for when they should not sit in the URL on the command line.
 */
export interface RedisClientConfig {
  readonly tls?: TLSConfig;
  readonly username?: string;
  readonly password?: SecretRef;
}

export function parseRedisClientConfig(text: string, file: string): RedisClientConfig {
  const d: Decoder = new Decoder(file, text);
  const f = d.fields(d.root, 'redis.ClientConfig', ['tls_config', 'username', 'password', 'password_file']);
  const tls = parseClientTLS(d, f, file);
  const username = f.str('username');
  const password = relativeTo(file)(secretField(d, f, 'password', 'redis client config'));
  return { ...(tls ? { tls } : {}), ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

export function loadRedisClientConfig(path: string): RedisClientConfig {
  return parseRedisClientConfig(readConfigFile(path), path);
}
