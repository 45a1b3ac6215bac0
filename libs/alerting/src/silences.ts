import { randomUUID } from 'node:crypto';
import type { LabelSet } from './labelset.js';
import { Matcher, type MatchType } from './matchers.js';

export type SilenceState = 'active' | 'pending' | 'expired';

export interface Silence {
  readonly id: string;
  readonly matchers: readonly Matcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly updatedAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

export interface SilenceInput {
  readonly id?: string;
  readonly matchers: readonly Matcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

/** How a silence is stored and shared: matchers as plain data. */
export interface SilenceRecord {
  readonly id: string;
  readonly matchers: ReadonlyArray<{
    readonly type: MatchType;
    readonly name: string;
    readonly value: string;
  }>;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly updatedAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

export class SilenceError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
  }
}

export function silenceState(s: Silence, now: number): SilenceState {
  if (s.endsAt <= now) return 'expired';
  if (s.startsAt > now) return 'pending';
  return 'active';
}

function validate(s: SilenceInput): void {
  if (s.matchers.length === 0) throw new SilenceError('at least one matcher required');
  for (const m of s.matchers) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name)) throw new SilenceError(`invalid label name "${m.name}"`);
  }
  if (s.matchers.every((m) => m.matches(''))) {
    throw new SilenceError('at least one matcher must not match the empty string');
  }
  if (s.startsAt === 0) throw new SilenceError('start time must not be zero');
  if (s.endsAt === 0) throw new SilenceError('end time must not be zero');
  if (s.endsAt < s.startsAt) throw new SilenceError("end time can't be before start time");
}

const sameMatchers = (a: readonly Matcher[], b: readonly Matcher[]) =>
  a.length === b.length && a.every((m, i) => m.toString() === b[i].toString());

/** silence.canUpdate: an active silence may only move its end (not into the past) or its comment. */
function canUpdate(prev: Silence, next: SilenceInput, now: number): boolean {
  if (!sameMatchers(prev.matchers, next.matchers)) return false;
  switch (silenceState(prev, now)) {
    case 'active':
      return next.startsAt === prev.startsAt && next.endsAt >= now;
    case 'pending':
      return next.startsAt >= now;
    case 'expired':
      return false;
  }
}

export type SilenceListener = (s: Silence) => void;

/** The silences, with upstream's update, expiry and retention rules. */
export class Silences {
  private readonly byId = new Map<string, Silence>();
  private readonly listeners = new Set<SilenceListener>();

  constructor(
    private readonly now: () => number,
    /** How long an expired silence is kept (--data.retention). */
    private readonly retention = 120 * 3600_000,
  ) {}

  /** Creates or updates; returns the id, which changes when the update cannot be done in place. */
  set(input: SilenceInput): string {
    validate(input);
    const now = this.now();
    const prev = input.id ? this.byId.get(input.id) : undefined;
    if (input.id && !prev) throw new SilenceError('not found', true);
    if (prev && canUpdate(prev, input, now)) {
      this.store({ ...prev, ...input, id: prev.id, updatedAt: now });
      return prev.id;
    }
    // Checked before the old one expires, so a refused replacement leaves it in force.
    if (input.endsAt < now) throw new SilenceError('end time cannot be in the past');
    if (prev && silenceState(prev, now) !== 'expired') this.expire(prev.id);
    const startsAt = input.startsAt < now ? now : input.startsAt;
    const id = randomUUID();
    this.store({ ...input, id, startsAt, updatedAt: now });
    return id;
  }

  expire(id: string): void {
    const s = this.byId.get(id);
    if (!s) throw new SilenceError('not found', true);
    const now = this.now();
    switch (silenceState(s, now)) {
      case 'expired':
        throw new SilenceError(`silence ${id} already expired`);
      case 'active':
        this.store({ ...s, endsAt: now, updatedAt: now });
        break;
      case 'pending':
        this.store({ ...s, startsAt: now, endsAt: now, updatedAt: now });
        break;
    }
  }

  get(id: string): Silence | undefined {
    return this.byId.get(id);
  }

  list(): Silence[] {
    return [...this.byId.values()];
  }

  /** Ids of the active silences that match the label set. */
  mutes(ls: LabelSet): string[] {
    const now = this.now();
    const ids: string[] = [];
    for (const s of this.byId.values()) {
      if (silenceState(s, now) !== 'active') continue;
      if (s.matchers.every((m) => m.matches(ls[m.name]))) ids.push(s.id);
    }
    return ids.sort();
  }

  /** Takes a silence from a peer or a snapshot; the later update wins. */
  merge(r: SilenceRecord): boolean {
    const prev = this.byId.get(r.id);
    if (prev && prev.updatedAt >= r.updatedAt) return false;
    this.byId.set(r.id, fromRecord(r));
    return true;
  }

  onChange(fn: SilenceListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Forgets silences expired longer than the retention ago. */
  gc(): number {
    const cutoff = this.now() - this.retention;
    let n = 0;
    for (const [id, s] of this.byId) {
      if (s.endsAt < cutoff) {
        this.byId.delete(id);
        n++;
      }
    }
    return n;
  }

  private store(s: Silence): void {
    this.byId.set(s.id, s);
    for (const l of this.listeners) l(s);
  }
}

export function toRecord(s: Silence): SilenceRecord {
  return { ...s, matchers: s.matchers.map((m) => ({ type: m.type, name: m.name, value: m.value })) };
}

export function fromRecord(r: SilenceRecord): Silence {
  return { ...r, matchers: r.matchers.map((m) => new Matcher(m.type, m.name, m.value)) };
}

/** types.SortSilences' order for listings: active by end, pending by start, expired newest first. */
export function sortSilences(list: Silence[], now: number): Silence[] {
  const rank: Record<SilenceState, number> = { active: 0, pending: 1, expired: 2 };
  return list.sort((a, b) => {
    const sa = silenceState(a, now);
    const sb = silenceState(b, now);
    if (sa !== sb) return rank[sa] - rank[sb];
    if (sa === 'active') return a.endsAt - b.endsAt;
    if (sa === 'pending') return a.startsAt - b.startsAt;
    return b.endsAt - a.endsAt;
  });
}
