import { createServer as createHTTPServer, type Server } from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const PHAROS_MAIN = join(ROOT, 'dist/apps/pharos/main.js');
/**
 * The Node flags `npm start` runs Pharos with: a scrape's garbage is megabytes that die within
 * the scrape, and a 64 MiB young generation lets it die there instead of being promoted and
 * marked by full collections (a third less CPU in the scrape bench). V8's default old-generation
 * limit then leaves less headroom over the live heap than one young generation, so it started a
 * full collection every few seconds whatever the growth; 75% headroom, Prometheus 3's GOGC,
 * halved the CPU again.
 */
// PHAROS_EXTRA_NODE_FLAGS lets a benchmark run be profiled (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
export const PHAROS_NODE_FLAGS = [
  '--max-semi-space-size=64',
  '--no-memory-reducer',
  '--heap-growing-percent=75',
  ...(process.env.PHAROS_EXTRA_NODE_FLAGS?.split(' ').filter((f) => f !== '') ?? []),
];

/** A free port on 127.0.0.1, found by binding port 0. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export function requireBinary(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  const path = r.stdout.toString().trim();
  if (r.status !== 0 || path === '') {
    throw new Error(
      `${name} is not installed; run "bash tools/deps.sh" (it installs Debian's prometheus packages)`,
    );
  }
  return path;
}

let anchorsBin: string | undefined;

/**
 * A binary of the current upstream release (Prometheus 3 and promtool, Alertmanager 0.35 and
 * amtool, VictoriaMetrics), built by ../shared/tools/anchors.sh; tools/deps.sh builds them
 * before the tests, so here the script only prints where they are.
 */
export function anchorBinary(
  name: 'prometheus' | 'promtool' | 'alertmanager' | 'amtool' | 'victoria-metrics',
): string {
  if (anchorsBin === undefined) {
    const script = join(ROOT, '../shared/tools/anchors.sh');
    if (!existsSync(script)) throw new Error(`${script} is missing: the reference systems are built by it`);
    const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 30 * 60_000 });
    const lines = r.stdout.trim().split('\n');
    if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.slice(-2000)}`);
    anchorsBin = lines[lines.length - 1];
  }
  const path = join(anchorsBin, name);
  if (!existsSync(path)) throw new Error(`${path} is missing after ../shared/tools/anchors.sh`);
  return path;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
  );
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Children still running. The test runner ends a file that overruns its timeout with SIGTERM,
 * which skips `after` hooks: without this the roles it started would run on after it.
 */
const running = new Set<ChildProcess>();
function killRunning(): void {
  for (const c of running) c.kill('SIGKILL');
}
process.once('exit', killRunning);
// Exiting on SIGTERM runs the 'exit' cleanups (this one, the test broker's); one such handler.
if (process.listenerCount('SIGTERM') === 0) process.once('SIGTERM', () => process.exit(143));

export class Proc {
  stderr = '';
  stdout = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    running.add(child);
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.exited = new Promise((r) =>
      child.once('exit', (code) => {
        running.delete(child);
        r(code);
      }),
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export interface Pharos {
  readonly proc: Proc;
  readonly url: string;
  readonly port: number;
  readonly dir: string;
}

/** Starts the built all-in-one binary on 127.0.0.1 with a config and storage of its own. */
export async function startPharos(
  configYaml: (port: number) => string,
  opts: { dir?: string; port?: number; args?: readonly string[] } = {},
): Promise<Pharos> {
  if (!existsSync(PHAROS_MAIN))
    throw new Error(`${PHAROS_MAIN} is missing: build it first (nx run pharos:build)`);
  const dir = opts.dir ?? tempDir('pharos-e2e-');
  const port = opts.port ?? (await freePort());
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml(port));
  const proc = new Proc(
    spawn(
      process.execPath,
      [
        ...PHAROS_NODE_FLAGS,
        PHAROS_MAIN,
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--grpc.listen-address=127.0.0.1:0',
        ...(opts.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Pharos to be ready', async () => {
    if (proc.child.exitCode !== null)
      throw new Error(`pharos exited with ${proc.child.exitCode}: ${proc.stderr}`);
    const r = await fetch(`${url}/-/ready`);
    return r.status === 200 ? true : undefined;
  });
  return { proc, url, port, dir };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function instantQuery(url: string, q: string): Promise<VectorSample[]> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { status: string; data: { result: VectorSample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`query ${q} failed: ${body.error}`);
  return body.data.result;
}

/** Starts a test server on 127.0.0.1. */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
}

/** A local webhook receiver that keeps every JSON body posted to it. */
/** An alertmanager.yml that sends every alert, grouped by name, to one webhook within a second. */
export function webhookAlertmanagerConfig(hookPort: number, sendResolved = false): string {
  return `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:${hookPort}/
        send_resolved: ${sendResolved}
`;
}

export async function webhookReceiver<T>(): Promise<{ server: Server; port: number; received: T[] }> {
  const received: T[] = [];
  const server = createHTTPServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as T);
      res.end();
    });
  });
  const port = await freePort();
  await listen(server, port);
  return { server, port, received };
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User plus system CPU seconds a process has used so far, and its resident memory in MiB. */
export function usage(pid: number): { cpu: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command name start at field 3 (state): utime is 14, stime 15, rss 24.
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rssMiB = (Number(fields[21]) * 4096) / 2 ** 20;
  return { cpu, rssMiB };
}

/**
 * CPU seconds of each thread of `pid`, summed by thread name, so a benchmark can say whether the
 * JavaScript thread, the garbage collector's helpers or LevelDB's threads spent the time.
 */
export function threadUsage(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
    const key = tid === String(pid) ? `${name} (main)` : name;
    byName.set(key, (byName.get(key) ?? 0) + cpu);
  }
  return byName;
}

export interface Prometheus {
  readonly proc: Proc;
  readonly url: string;
  readonly dir: string;
}

/**
 * Starts a real `prometheus` on 127.0.0.1 with `configYaml` (Debian's 2.42 unless `bin` names
 * another, such as anchorBinary('prometheus')), and waits until it is ready.
 */
export async function startPrometheus(
  configYaml: string,
  opts: { dir?: string; args?: readonly string[]; bin?: string } = {},
): Promise<Prometheus> {
  const bin = opts.bin ?? requireBinary('prometheus');
  const dir = opts.dir ?? tempDir('prometheus-e2e-');
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), configYaml);
  const proc = new Proc(
    spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        ...(opts.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => {
    if (proc.child.exitCode !== null)
      throw new Error(`prometheus exited with ${proc.child.exitCode}: ${proc.stderr}`);
    const r = await fetch(`${url}/-/ready`).catch(() => undefined);
    return r?.ok ? true : undefined;
  });
  return { proc, url, dir };
}

export interface Role {
  readonly proc: Proc;
  readonly url: string;
  readonly port: number;
}

/**
 * Starts a role's bundle with its HTTP server on 127.0.0.1 and, unless `ready` is false, waits
 * for its /-/ready (a role that cannot reach its broker never gets there).
 */
export async function startRole(
  main: string,
  args: readonly string[],
  opts: { port?: number; ready?: boolean; nodeFlags?: readonly string[] } = {},
): Promise<Role> {
  const port = opts.port ?? (await freePort());
  const proc = new Proc(
    spawn(
      process.execPath,
      [...(opts.nodeFlags ?? []), main, `--web.listen-address=127.0.0.1:${port}`, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  if (opts.ready !== false) {
    await waitFor(
      `${main} to be ready`,
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`${main} exited: ${proc.stderr}`);
        return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
      },
      60_000,
    ).catch(async (e: unknown) => {
      await proc.stop('SIGKILL');
      throw e;
    });
  }
  return { proc, url, port };
}
