import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface TestBroker {
  readonly brokers: string[];
  /** Stops the broker; its data stays, so `restart` brings the same log back. */
  stop(): void;
  restart(): void;
  /** Stops it and removes its data (a no-op for a broker given by PHAROS_TEST_KAFKA). */
  close(): void;
}

/** A secured client listener (see tools/kafka.sh). */
export interface TestBrokerSecurity {
  /** A directory with server.crt, server.key and ca.crt (makeTestCerts' layout). */
  readonly tlsDir?: string;
  readonly requireClientCert?: boolean;
  /** SASL users (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512) by name, with their passwords. */
  readonly users?: Readonly<Record<string, string>>;
}

function script(env: NodeJS.ProcessEnv, ...args: string[]): string {
  const r = spawnSync('bash', [join(ROOT, 'tools/kafka.sh'), ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    env,
  });
  if (r.status !== 0) throw new Error(`tools/kafka.sh ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/**
 * The broker tests use: PHAROS_TEST_KAFKA (host:port) when set, else a single-node KRaft broker
 * started from the Apache Kafka jars (tools/kafka.sh fetches them through Maven once).
 */
export function startTestBroker(security?: TestBrokerSecurity): TestBroker {
  const given = process.env.PHAROS_TEST_KAFKA;
  if (given && !security) {
    const brokers = given.split(',');
    const unsupported = () => {
      throw new Error('stopping the broker given by PHAROS_TEST_KAFKA is not supported');
    };
    return { brokers, stop: unsupported, restart: unsupported, close: () => undefined };
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (security?.tlsDir) env.KAFKA_TLS_DIR = security.tlsDir;
  if (security?.requireClientCert) env.KAFKA_TLS_CLIENT_AUTH = 'required';
  if (security?.users)
    env.KAFKA_SASL_USERS = Object.entries(security.users)
      .map(([u, p]) => `${u}:${p}`)
      .join(',');
  const dir = mkdtempSync(join(tmpdir(), 'pharos-kafka-'));
  const address = script(env, 'start', dir);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    script(env, 'stop', dir);
    rmSync(dir, { recursive: true, force: true });
  };
  // A test file ended by the runner's timeout (SIGTERM) skips its `after` hooks: the broker, a
  // daemon of its own, would outlive it. Exiting on SIGTERM runs this 'exit' cleanup.
  process.once('exit', close);
  if (process.listenerCount('SIGTERM') === 0) process.once('SIGTERM', () => process.exit(143));
  return {
    brokers: [address],
    stop: () => script(env, 'stop', dir),
    restart: () => void script(env, 'start', dir),
    close,
  };
}
