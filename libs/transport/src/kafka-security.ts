import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { loadKafkaClientConfig, readSecret, tlsConnectionOptions } from '@pharos/config';

/** kafkajs' TLS and SASL settings for a role's connections to the brokers. */
export interface KafkaSecurity {
  readonly ssl?: ConnectionOptions;
  readonly sasl?: SASLOptions;
}

/**
 * `--kafka.client-config.file` as kafkajs settings. Certificates and the password are read here,
 * so an unreadable file refuses the start instead of failing every reconnect.
 */
export function loadKafkaSecurity(path: string | undefined): KafkaSecurity {
  if (!path) return {};
  const c = loadKafkaClientConfig(path);
  const ssl = c.tls ? tlsConnectionOptions(c.tls) : undefined;
  let sasl: SASLOptions | undefined;
  if (c.sasl) {
    const username = c.sasl.username;
    const password = readSecret(c.sasl.password) ?? '';
    switch (c.sasl.mechanism) {
      case 'PLAIN':
        sasl = { mechanism: 'plain', username, password };
        break;
      case 'SCRAM-SHA-256':
        sasl = { mechanism: 'scram-sha-256', username, password };
        break;
      case 'SCRAM-SHA-512':
        sasl = { mechanism: 'scram-sha-512', username, password };
        break;
    }
  }
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}
