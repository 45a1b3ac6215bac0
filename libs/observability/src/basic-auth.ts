import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** A bcrypt hash of "fakepassword": unknown users cost as much as known ones, so timing tells nothing. */
const FAKE_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';
/** Verified credentials remembered; the least recently used goes when a new one comes. */
const CACHE_SIZE = 100;
/** Hash checks under way or waiting, for everyone and for one client address. */
const MAX_PENDING = 32;
const MAX_PENDING_PER_CLIENT = 2;

/** What a basic-auth attempt comes to; `busy` (answer 429) when its check cannot be queued now. */
export type AuthOutcome = 'ok' | 'denied' | 'busy';

/**
 * bcrypt comparisons in a worker thread: each costs tens of milliseconds of CPU, which on the
 * main thread is time every probe, scrape and query waits. bcryptjs is pure JavaScript, so the
 * worker loads the same package the process has.
 */
class HashWorker {
  private worker: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (ok: boolean) => void; reject: (e: Error) => void }
  >();

  compare(pass: string, hash: string): Promise<boolean> {
    const w = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, pass, hash });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const bcrypt = require(workerData.bcryptjs);
       parentPort.on('message', ({ id, pass, hash }) => {
         let ok = false;
         try { ok = bcrypt.compareSync(pass, hash); } catch { ok = false; }
         parentPort.postMessage({ id, ok });
       });`,
      {
        eval: true,
        // Not the parent's flags: a loader such as tsx would keep the thread, and the process, alive.
        execArgv: [],
        workerData: { bcryptjs: createRequire(import.meta.url).resolve('bcryptjs') },
      },
    );
    w.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      this.waiting.get(id)?.resolve(ok);
      this.waiting.delete(id);
      // Idle, it must not keep a process that is shutting down alive (a message sent refs it again).
      if (this.waiting.size === 0) w.unref();
    });
    const fail = (e: Error) => {
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
      this.worker = undefined;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the password hashing worker exited with ${code}`)));
    this.worker = w;
    return w;
  }
}

const hashes = new HashWorker();

/**
 * Checks user and password against bcrypt hashes as exporter-toolkit does, off the main thread.
 * Only successes are remembered (by user, hash and password: clients send the same credentials
 * with every request), so a flood of wrong passwords neither evicts them nor costs a right
 * password anything; the flood itself is bounded per client address and in all.
 */
export class BcryptUsers {
  private readonly verified = new Map<string, true>();
  private pending = 0;
  private readonly pendingByClient = new Map<string, number>();

  constructor(private users: Readonly<Record<string, string>>) {}

  get enabled(): boolean {
    return Object.keys(this.users).length > 0;
  }

  replace(users: Readonly<Record<string, string>>): void {
    this.users = users;
    this.verified.clear();
  }

  async verify(user: string, pass: string, client = ''): Promise<AuthOutcome> {
    const known = Object.hasOwn(this.users, user);
    const hash = known ? this.users[user] : FAKE_HASH;
    const key = `${user}\u0000${hash}\u0000${pass}`;
    if (this.verified.has(key)) {
      this.verified.delete(key);
      this.verified.set(key, true);
      return 'ok';
    }
    const mine = this.pendingByClient.get(client) ?? 0;
    if (this.pending >= MAX_PENDING || mine >= MAX_PENDING_PER_CLIENT) return 'busy';
    this.pending++;
    this.pendingByClient.set(client, mine + 1);
    try {
      const match = await hashes.compare(pass, hash);
      if (!(known && match)) return 'denied';
      if (this.users[user] === hash) {
        this.verified.set(key, true);
        if (this.verified.size > CACHE_SIZE)
          this.verified.delete(this.verified.keys().next().value as string);
      }
      return 'ok';
    } finally {
      this.pending--;
      const left = (this.pendingByClient.get(client) ?? 1) - 1;
      if (left > 0) this.pendingByClient.set(client, left);
      else this.pendingByClient.delete(client);
    }
  }
}

/** The user and password of an `Authorization: Basic` header, as Go's Request.BasicAuth reads it. */
export function basicAuth(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}
