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

function script(...args: string[]): string {
  const r = spawnSync('bash', [join(ROOT, 'tools/kafka.sh'), ...args], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`tools/kafka.sh ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/**
 * The broker tests use: PHAROS_TEST_KAFKA (host:port) when set, else a single-node KRaft broker
 * started from the Apache Kafka jars (tools/kafka.sh fetches them through Maven once).
 */
export function startTestBroker(): TestBroker {
  const given = process.env.PHAROS_TEST_KAFKA;
  if (given) {
    const brokers = given.split(',');
    const unsupported = () => {
      throw new Error('stopping the broker given by PHAROS_TEST_KAFKA is not supported');
    };
    return { brokers, stop: unsupported, restart: unsupported, close: () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'pharos-kafka-'));
  const address = script('start', dir);
  return {
    brokers: [address],
    stop: () => script('stop', dir),
    restart: () => void script('start', dir),
    close: () => {
      script('stop', dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
