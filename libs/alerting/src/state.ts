import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Alert } from './alert.js';
import type { NflogEntry, NotificationLog } from './nflog.js';
import { toRecord, type SilenceRecord, type Silences } from './silences.js';

export interface PeerInfo {
  readonly name: string;
  readonly address: string;
}

/** What the state shares: silences and the notification log, plus alerts for HA replicas. */
export interface StateParts {
  readonly silences: Silences;
  readonly nflog: NotificationLog;
  /** Alerts a peer received, to be put into this replica's store. */
  readonly receiveAlerts: (alerts: readonly Alert[]) => void;
}

/**
 * Where silences and the notification log live beyond the process: a directory in embedded
 * mode, Redis for replicas. Peers are the replicas sharing it.
 */
export interface SharedState {
  start(parts: StateParts): Promise<void>;
  /** Alerts this replica accepted, for its peers. */
  shareAlerts(alerts: readonly Alert[]): void;
  /**
   * Makes every silence change so far durable: the API awaits it before it answers, so a
   * silence it returned an id for survives a kill -9 right after.
   */
  persistSilences(): Promise<void>;
  /** This replica's index among live peers: the first sends at once, the next waits a peer timeout. */
  position(): number;
  peers(): PeerInfo[];
  status(): 'ready' | 'settling' | 'disabled';
  stop(): Promise<void>;
}

function readJSON<T>(path: string): T[] {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Atomic snapshot files in --storage.path, written soon after each change and on stop. */
export class FileState implements SharedState {
  private parts: StateParts | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  async start(parts: StateParts): Promise<void> {
    this.parts = parts;
    mkdirSync(this.dir, { recursive: true });
    for (const r of readJSON<SilenceRecord>(join(this.dir, 'silences.json'))) parts.silences.merge(r);
    for (const e of readJSON<NflogEntry>(join(this.dir, 'nflog.json'))) parts.nflog.merge(e);
    this.unsubscribe.push(parts.silences.onChange(() => this.schedule(50)));
    this.unsubscribe.push(parts.nflog.onChange(() => this.schedule(1000)));
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.flush();
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'writing alertmanager state failed');
      }
    }, ms);
  }

  /** Replaces a snapshot file whole: written aside, synced, then renamed over the old one. */
  private write(name: string, data: unknown): void {
    const path = join(this.dir, name);
    const fd = openSync(`${path}.tmp`, 'w');
    try {
      writeSync(fd, JSON.stringify(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${path}.tmp`, path);
  }

  private writeSilences(): void {
    if (!this.parts) return;
    this.parts.silences.gc();
    this.write('silences.json', this.parts.silences.list().map(toRecord));
  }

  flush(): void {
    if (!this.parts) return;
    this.writeSilences();
    this.parts.nflog.gc();
    this.write('nflog.json', this.parts.nflog.list());
  }

  async persistSilences(): Promise<void> {
    this.writeSilences();
  }

  shareAlerts(): void {}

  position(): number {
    return 0;
  }

  peers(): PeerInfo[] {
    return [];
  }

  status(): 'disabled' {
    return 'disabled';
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
  }
}
