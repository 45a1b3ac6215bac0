import { parseClientTLS, relativeTo, secretField, type SecretRef, type TLSConfig } from './http-client.js';
import { readConfigFile } from './prometheus.js';
import { Decoder } from './yaml-decode.js';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/**
 * `--kafka.client-config.file`: how a role connects to the brokers. A `tls_config` key turns TLS
 * on (the scrape config's fields); `sasl` authenticates with a user name and password.
 */
export interface KafkaClientConfig {
  readonly tls?: TLSConfig;
  readonly sasl?: {
    readonly mechanism: SaslMechanism;
    readonly username: string;
    readonly password: SecretRef;
  };
}

export function parseKafkaClientConfig(text: string, file: string): KafkaClientConfig {
  const d: Decoder = new Decoder(file, text);
  const f = d.fields(d.root, 'kafka.ClientConfig', ['tls_config', 'sasl']);
  const tls = parseClientTLS(d, f, file);
  let sasl: KafkaClientConfig['sasl'];
  if (f.has('sasl')) {
    const s = d.fields(f.raw('sasl'), 'kafka.SASLConfig', [
      'mechanism',
      'username',
      'password',
      'password_file',
    ]);
    const mechanism = s.str('mechanism', 'PLAIN').toUpperCase() as SaslMechanism;
    if (!MECHANISMS.includes(mechanism))
      d.fail(
        s.raw('mechanism'),
        `unknown SASL mechanism ${s.str('mechanism')}: use one of ${MECHANISMS.join(', ')}`,
      );
    const username = s.str('username');
    if (!username) d.fail(f.raw('sasl'), 'sasl needs a username');
    const password = relativeTo(file)(secretField(d, s, 'password', 'sasl'));
    if (!password) d.fail(f.raw('sasl'), 'sasl needs one of password or password_file');
    sasl = { mechanism, username, password };
  }
  return { ...(tls ? { tls } : {}), ...(sasl ? { sasl } : {}) };
}

export function loadKafkaClientConfig(path: string): KafkaClientConfig {
  return parseKafkaClientConfig(readConfigFile(path), path);
}
