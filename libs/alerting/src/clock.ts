export interface TimerHandle {
  cancel(): void;
}

/** Time for the dispatcher, so tests can drive group_wait and repeat_interval with a fake clock. */
export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`. */
  after(ms: number, fn: () => void | Promise<unknown>): TimerHandle;
}

export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(() => void fn(), ms);
    return { cancel: () => clearTimeout(t) };
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void | Promise<unknown>;
  cancelled: boolean;
}

/** A clock that moves only when told, running due timers in order and waiting for their work. */
export class FakeClock implements Clock {
  private timers: FakeTimer[] = [];
  private seq = 0;

  constructor(private t = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void | Promise<unknown>): TimerHandle {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      this.timers = this.timers.filter((x) => !x.cancelled);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      // Not awaited: the work may itself wait on this clock (retry backoff); settling runs it.
      void next.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets promise chains started by timers run to their next real wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
