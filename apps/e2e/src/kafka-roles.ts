// Helpers for tests of the roles as processes on a real Kafka broker (started by useKafkaRoles).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { IngesterGrpcClient } from '@pharos/ingest';
import { LabelMatcher, labelsFrom, SampleBatchBuilder, type SampleBatch } from '@pharos/model';
import { decodeSampleBatch, encodeSampleBatch } from '@pharos/proto';
import { KafkaLog, SampleBus } from '@pharos/transport';
import { startTestBroker, type TestBroker } from '@pharos/transport/testing';
import {
  freePort,
  PHAROS_NODE_FLAGS,
  Proc,
  removeDir,
  ROOT,
  startRole as startRoleProcess,
  waitFor,
} from './harness.js';

export const INGESTER_MAIN = join(ROOT, 'dist/apps/ingester/main.js');
export const QUERIER_MAIN = join(ROOT, 'dist/apps/querier/main.js');
export const DISCOVERY_MAIN = join(ROOT, 'dist/apps/discovery/main.js');
export const SCRAPER_MAIN = join(ROOT, 'dist/apps/scraper/main.js');
export const RULER_MAIN = join(ROOT, 'dist/apps/ruler/main.js');
export const ALERTMANAGER_MAIN = join(ROOT, 'dist/apps/alertmanager/main.js');
export const SERIES = 40;

export interface Ingester {
  proc: Proc;
  http: string;
  grpc: string;
}

let broker!: TestBroker;
export const dirs: string[] = [];
export const procs: Proc[] = [];
export const cleanups: Array<() => Promise<void>> = [];

/** The broker of this test file (one per file: each runs in its own process). */
export function kafkaBroker(): TestBroker {
  return broker;
}

/**
 * Starts a broker before the file's tests and, after them, kills every role started through
 * these helpers and removes their directories. Call once, at the top of a test file.
 */
export function useKafkaRoles(): void {
  before(() => {
    for (const main of [
      INGESTER_MAIN,
      QUERIER_MAIN,
      DISCOVERY_MAIN,
      SCRAPER_MAIN,
      RULER_MAIN,
      ALERTMANAGER_MAIN,
    ])
      if (!existsSync(main)) throw new Error(`${main} is missing: build it (nx run-many -t build)`);
    broker = startTestBroker();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await Promise.all(cleanups.map((c) => c()));
    broker?.close();
    dirs.forEach(removeDir);
  });
}

export async function startIngester(
  topic: string,
  dir: string,
  partitions: string,
  ports?: number[],
  extra: readonly string[] = [],
): Promise<Ingester> {
  const [httpPort, grpcPort] = ports ?? [await freePort(), await freePort()];
  const proc = new Proc(
    spawn(
      process.execPath,
      [
        ...PHAROS_NODE_FLAGS,
        INGESTER_MAIN,
        `--kafka.brokers=${broker.brokers.join(',')}`,
        `--kafka.topic=${topic}`,
        '--kafka.partitions=4',
        `--ingester.partitions=${partitions}`,
        `--ingester.group=${topic}.ingesters`,
        `--storage.tsdb.path=${dir}`,
        '--storage.tsdb.checkpoint-interval=500ms',
        ...extra,
        `--web.listen-address=127.0.0.1:${httpPort}`,
        `--grpc.listen-address=127.0.0.1:${grpcPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  procs.push(proc);
  const http = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    'the ingester to be ready',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`ingester exited: ${proc.stderr}`);
      return (await fetch(`${http}/-/ready`)).ok ? true : undefined;
    },
    60_000,
  );
  return { proc, http, grpc: `127.0.0.1:${grpcPort}` };
}

export function batch(t: number): SampleBatch {
  const b = new SampleBatchBuilder();
  for (let i = 0; i < SERIES; i++) b.push(labelsFrom({ __name__: 'm', i: String(i) }), t * 1000, t);
  return b.build();
}

/** Timestamps (in seconds) of every series an ingester holds, by the series' `i` label. */
export async function stored(ing: Ingester): Promise<Map<string, number[]>> {
  const client = new IngesterGrpcClient(ing.grpc);
  try {
    const out = new Map<string, number[]>();
    for (const s of await client.select([new LabelMatcher('=', '__name__', 'm')], 0, 1e15)) {
      out.set(
        s.labels.find((l) => l.name === 'i')?.value ?? '',
        [...s.timestamps].map((t) => t / 1000),
      );
    }
    return out;
  } finally {
    client.close();
  }
}

export async function writer(topic: string) {
  const log = await KafkaLog.open<SampleBatch>({
    brokers: broker.brokers,
    topic,
    partitions: 4,
    clientId: 'e2e-writer',
    codec: { encode: encodeSampleBatch, decode: decodeSampleBatch },
    compression: 'snappy',
  });
  return { bus: new SampleBus(log), close: () => log.close() };
}

/** Starts a built role with its arguments and waits for its /-/ready on `httpPort`. */
export async function startRole(main: string, httpPort: number, args: readonly string[]): Promise<Proc> {
  const { proc } = await startRoleProcess(main, args, { port: httpPort });
  procs.push(proc);
  return proc;
}

/** A querier over these ingesters, or over what Consul announces when `ingesters` is a flag. */
export async function startQuerier(
  ingesters: readonly Ingester[] | string,
  extra: readonly string[] = [],
): Promise<{ proc: Proc; url: string }> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const proc = new Proc(
    spawn(
      process.execPath,
      [
        QUERIER_MAIN,
        typeof ingesters === 'string'
          ? ingesters
          : `--ingester.addresses=${ingesters.map((i) => i.grpc).join(',')}`,
        `--web.listen-address=127.0.0.1:${httpPort}`,
        `--grpc.listen-address=127.0.0.1:${grpcPort}`,
        '--config.file=/nonexistent/prometheus.yml',
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  procs.push(proc);
  const url = `http://127.0.0.1:${httpPort}`;
  await waitFor('the querier to be ready', async () => {
    if (proc.child.exitCode !== null) throw new Error(`querier exited: ${proc.stderr}`);
    return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
  });
  return { proc, url };
}

export async function instant(
  url: string,
  query: string,
  time: number,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${time}`);
  const body = (await r.json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/** A test exporter: `n` fixed series under one metric name. */
export async function exporter(name: string, n: number): Promise<{ address: string; close: () => void }> {
  const { createServer } = await import('node:http');
  const body = Array.from({ length: n }, (_, i) => `${name}{k="${i}"} ${i}`).join('\n') + '\n';
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { address: `127.0.0.1:${port}`, close: () => server.close() };
}
