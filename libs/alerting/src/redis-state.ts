import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Alert } from './alert.js';
import type { NflogEntry } from './nflog.js';
import { toRecord, type SilenceRecord } from './silences.js';
import type { PeerInfo, SharedState, StateParts } from './state.js';

export interface RedisStateOptions {
  /** redis://[:password@]host:port[/db]; rediss:// for TLS. */
  readonly url: string;
  /** --redis.client-config.file: TLS options, and an ACL user or password kept out of the URL. */
  readonly tls?: ConnectionOptions;
  readonly username?: string;
  readonly password?: string;
  /** Replicas sharing state use the same prefix (one Alertmanager cluster per prefix). */
  readonly prefix: string;
  /** This replica's name among its peers, and the address it serves. */
  readonly name: string;
  readonly address: string;
  readonly logger: Logger;
  /** A peer that has not announced itself for this long is gone. */
  readonly peerTTL?: number;
}

type Event =
  | { readonly from: string; readonly kind: 'silence'; readonly silence: SilenceRecord }
  | { readonly from: string; readonly kind: 'nflog'; readonly entry: NflogEntry }
  | { readonly from: string; readonly kind: 'alerts'; readonly alerts: readonly Alert[] };

const nflogField = (e: NflogEntry) => `${e.receiver}\u0000${e.groupKey}`;

/**
 * State shared by Alertmanager replicas through Redis: silences and the notification log in
 * hashes, every change published to the peers, and peers announcing themselves in a sorted set
 * so each knows its position. Without Redis a replica keeps serving from memory and pushes what it
 * holds once Redis is back.
 */
export class RedisState implements SharedState {
  /**
   * ioredis is loaded here, not at module load: its VerbatimString subclasses String, which turns
   * String.prototype into a dictionary-mode object for the rest of the process, and every string
   * method call in optimised code (the exposition parser's charCodeAt and slice) becomes a generic
   * property lookup. Only a process that talks to Redis should pay that.
   */
  static async create(opts: RedisStateOptions): Promise<RedisState> {
    const { Redis: RedisClient } = await import('ioredis');
    return new RedisState(opts, RedisClient);
  }

  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly id = randomUUID();
  private parts: StateParts | null = null;
  private livePeers: PeerInfo[] = [];
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly unsubscribe: Array<() => void> = [];
  private connected = false;
  private warned = false;
  private readonly silenceWrites: Array<Promise<boolean>> = [];

  private constructor(
    private readonly opts: RedisStateOptions,
    RedisClient: typeof Redis,
  ) {
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    };
    this.cmd = new RedisClient(opts.url, { ...common, connectionName: `pharos-am-${opts.name}` });
    this.sub = new RedisClient(opts.url, { ...common, connectionName: `pharos-am-${opts.name}-sub` });
    for (const c of [this.cmd, this.sub]) c.on('error', (e: Error) => this.unavailable(e));
  }

  private key(k: string): string {
    return `${this.opts.prefix}:${k}`;
  }

  private unavailable(e: Error): void {
    if (this.connected || !this.warned) {
      this.opts.logger.warn({ err: e.message }, 'Redis unavailable; serving Alertmanager state from memory');
    }
    this.connected = false;
    this.warned = true;
  }

  async start(parts: StateParts): Promise<void> {
    this.parts = parts;
    this.unsubscribe.push(
      parts.silences.onChange((s) => {
        const r = toRecord(s);
        const stored = this.write(() => this.cmd.hset(this.key('silences'), r.id, JSON.stringify(r)));
        this.silenceWrites.push(stored);
        this.publish({ from: this.id, kind: 'silence', silence: r });
      }),
    );
    this.unsubscribe.push(
      parts.nflog.onChange((e) => {
        void this.write(() => this.cmd.hset(this.key('nflog'), nflogField(e), JSON.stringify(e)));
        this.publish({ from: this.id, kind: 'nflog', entry: e });
      }),
    );
    this.sub.on('message', (_channel: string, message: string) => this.onEvent(message));
    // Either connection coming back (ioredis reconnects by itself) triggers a resync.
    for (const c of [this.cmd, this.sub]) c.on('ready', () => void this.resync());
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
    } catch (e) {
      // Reconnects on its own; until then this replica works alone.
      this.unavailable(e as Error);
    }
    await this.resync();
    this.heartbeat = setInterval(() => void this.announce(), 2000);
    this.heartbeat.unref();
    await this.announce();
  }

  /** On (re)connection: take the peers' state, push ours, listen again. */
  private async resync(): Promise<void> {
    const parts = this.parts;
    if (!parts || this.cmd.status !== 'ready' || this.sub.status !== 'ready') return;
    try {
      await this.sub.subscribe(this.key('events'));
      const [silences, nflog] = await Promise.all([
        this.cmd.hgetall(this.key('silences')),
        this.cmd.hgetall(this.key('nflog')),
      ]);
      for (const v of Object.values(silences)) parts.silences.merge(JSON.parse(v) as SilenceRecord);
      for (const v of Object.values(nflog)) parts.nflog.merge(JSON.parse(v) as NflogEntry);
      const pipe = this.cmd.pipeline();
      for (const s of parts.silences.list()) {
        const r = toRecord(s);
        const theirs = silences[r.id] ? (JSON.parse(silences[r.id]) as SilenceRecord) : undefined;
        if (!theirs || theirs.updatedAt < r.updatedAt) {
          pipe.hset(this.key('silences'), r.id, JSON.stringify(r));
          // Peers that resynchronised before us learn it from the event.
          pipe.publish(this.key('events'), JSON.stringify({ from: this.id, kind: 'silence', silence: r }));
        }
      }
      for (const e of parts.nflog.list()) {
        const f = nflogField(e);
        const theirs = nflog[f] ? (JSON.parse(nflog[f]) as NflogEntry) : undefined;
        if (!theirs || theirs.timestamp < e.timestamp) {
          pipe.hset(this.key('nflog'), f, JSON.stringify(e));
          pipe.publish(this.key('events'), JSON.stringify({ from: this.id, kind: 'nflog', entry: e }));
        }
      }
      await pipe.exec();
      if (!this.connected) this.opts.logger.info('Redis available; Alertmanager state synchronised');
      this.connected = true;
      await this.announce();
    } catch (e) {
      this.unavailable(e as Error);
    }
  }

  private onEvent(message: string): void {
    const parts = this.parts;
    if (!parts) return;
    let ev: Event;
    try {
      ev = JSON.parse(message) as Event;
    } catch {
      return;
    }
    if (ev.from === this.id) return;
    if (ev.kind === 'silence') parts.silences.merge(ev.silence);
    else if (ev.kind === 'nflog') parts.nflog.merge(ev.entry);
    else parts.receiveAlerts(ev.alerts);
  }

  /** Resolves true once Redis has it, false when it is left for the resync after an outage. */
  private write(fn: () => Promise<unknown>): Promise<boolean> {
    if (!this.connected) return Promise.resolve(false); // resync pushes it on reconnection
    return fn().then(
      () => true,
      (e: Error) => {
        this.unavailable(e);
        return false;
      },
    );
  }

  /**
   * Awaits the silence writes in flight. With Redis away this replica works alone, as it does
   * for alerts: the silence is in its memory and the resync pushes it when Redis is back.
   */
  async persistSilences(): Promise<void> {
    const stored = await Promise.all(this.silenceWrites.splice(0));
    if (stored.includes(false))
      this.opts.logger.warn('Redis unavailable: silence kept in memory until Redis is back');
  }

  private publish(ev: Event): void {
    void this.write(() => this.cmd.publish(this.key('events'), JSON.stringify(ev)));
  }

  shareAlerts(alerts: readonly Alert[]): void {
    this.publish({ from: this.id, kind: 'alerts', alerts });
  }

  private async announce(): Promise<void> {
    if (!this.connected) return;
    const now = Date.now();
    const ttl = this.opts.peerTTL ?? 10_000;
    const me = JSON.stringify({ name: this.opts.name, address: this.opts.address });
    try {
      const key = this.key('peers');
      const [, , members] = (await this.cmd
        .multi()
        .zadd(key, now, me)
        .zremrangebyscore(key, 0, now - ttl)
        .zrange(key, '0', '-1')
        .exec()
        .then((r) => (r ?? []).map(([err, v]) => (err ? null : v)))) as [unknown, unknown, string[] | null];
      this.livePeers = (members ?? [])
        .map((m) => JSON.parse(m) as PeerInfo)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      this.unavailable(e as Error);
    }
  }

  position(): number {
    const i = this.livePeers.findIndex((p) => p.name === this.opts.name);
    return i < 0 ? 0 : i;
  }

  peers(): PeerInfo[] {
    return this.livePeers.length > 0
      ? this.livePeers
      : [{ name: this.opts.name, address: this.opts.address }];
  }

  status(): 'ready' | 'settling' {
    return this.connected ? 'ready' : 'settling';
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.connected) {
      await this.cmd
        .zrem(this.key('peers'), JSON.stringify({ name: this.opts.name, address: this.opts.address }))
        .catch(() => undefined);
    }
    this.sub.disconnect();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }
}
