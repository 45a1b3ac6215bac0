import type { Logger } from 'pino';
import { compareAlerts, resolvedAt, type Alert } from './alert.js';
import type { AlertStore } from './alert-store.js';
import type { Clock, TimerHandle } from './clock.js';
import { labelSetString, pick, type LabelSet } from './labelset.js';
import type { NotifyContext } from './notify.js';
import type { Route } from './route.js';

export type NotifyFunc = (ctx: NotifyContext, alerts: readonly Alert[]) => Promise<boolean>;

/** The minimum time a flush may spend retrying (notify.MinTimeout). */
const MIN_TIMEOUT = 10_000;

/** dispatch.aggrGroup: the alerts of one route with equal group_by labels, flushed on the group's timers. */
export class AggregationGroup {
  readonly alerts = new Map<string, Alert>();
  readonly groupKey: string;
  private timer: TimerHandle | null = null;
  private hasFlushed = false;
  private stopped = false;

  constructor(
    readonly route: Route,
    readonly labels: LabelSet,
    private readonly clock: Clock,
    private readonly notify: NotifyFunc,
    private readonly logger: Logger,
  ) {
    this.groupKey = `${route.key()}:${labelSetString(labels)}`;
    this.schedule(route.opts.groupWait);
  }

  insert(a: Alert): void {
    this.alerts.set(a.fingerprint, a);
    // An alert that started a group_wait ago or earlier need not wait for the first flush.
    if (!this.hasFlushed && a.startsAt + this.route.opts.groupWait < this.clock.now()) this.schedule(0);
  }

  empty(): boolean {
    return this.alerts.size === 0;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.after(ms, () => this.tick());
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.hasFlushed = true;
    this.schedule(this.route.opts.groupInterval);
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.empty()) return;
    const now = this.clock.now();
    const resolved: Alert[] = [];
    const list: Alert[] = [];
    for (const a of this.alerts.values()) {
      if (resolvedAt(a, now)) {
        resolved.push(a);
        list.push(a);
      } else {
        // A firing alert goes out without its end time, so it cannot resolve in transit.
        list.push({ ...a, endsAt: 0 });
      }
    }
    list.sort(compareAlerts);
    const o = this.route.opts;
    const ctx: NotifyContext = {
      groupKey: this.groupKey,
      receiver: o.receiver,
      groupLabels: this.labels,
      now,
      repeatInterval: o.repeatInterval,
      muteTimeIntervals: o.muteTimeIntervals,
      activeTimeIntervals: o.activeTimeIntervals,
      deadline: now + Math.max(o.groupInterval, MIN_TIMEOUT),
    };
    let ok = false;
    try {
      ok = await this.notify(ctx, list);
    } catch (e) {
      this.logger.error({ groupKey: this.groupKey, err: (e as Error).message }, 'notify failed');
    }
    if (!ok) return;
    // Resolved alerts were sent; drop them unless they fired again during the flush.
    for (const a of resolved) if (this.alerts.get(a.fingerprint) === a) this.alerts.delete(a.fingerprint);
  }
}

export interface GroupView {
  readonly labels: LabelSet;
  readonly receiver: string;
  readonly route: Route;
  readonly alerts: readonly Alert[];
}

/** dispatch.Dispatcher: routes every stored alert into its aggregation groups. */
export class Dispatcher {
  private readonly groups = new Map<Route, Map<string, AggregationGroup>>();
  private unsubscribe: (() => void) | null = null;
  private maintenance: TimerHandle | null = null;
  constructor(
    private readonly route: Route,
    private readonly store: AlertStore,
    private readonly notify: NotifyFunc,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  groupCount(): number {
    let n = 0;
    for (const m of this.groups.values()) n += m.size;
    return n;
  }

  start(): void {
    this.unsubscribe = this.store.subscribe((a) => this.process(a));
    const maintain = () => {
      this.removeEmpty();
      this.maintenance = this.clock.after(30_000, maintain);
    };
    this.maintenance = this.clock.after(30_000, maintain);
  }

  stop(): void {
    this.unsubscribe?.();
    this.maintenance?.cancel();
    for (const m of this.groups.values()) for (const g of m.values()) g.stop();
    this.groups.clear();
  }

  private process(a: Alert): void {
    for (const r of this.route.match(a.labels)) {
      const labels = r.opts.groupBy === null ? { ...a.labels } : pick(a.labels, r.opts.groupBy);
      const key = labelSetString(labels);
      let byKey = this.groups.get(r);
      if (!byKey) {
        byKey = new Map();
        this.groups.set(r, byKey);
      }
      let g = byKey.get(key);
      if (!g) {
        g = new AggregationGroup(r, labels, this.clock, this.notify, this.logger);
        byKey.set(key, g);
      }
      g.insert(a);
    }
  }

  private removeEmpty(): void {
    for (const m of this.groups.values()) {
      for (const [k, g] of m) {
        if (g.empty()) {
          g.stop();
          m.delete(k);
        }
      }
    }
  }

  /** The current groups, for /api/v2/alerts/groups. */
  groupsView(): GroupView[] {
    const out: GroupView[] = [];
    for (const [route, m] of this.groups) {
      for (const g of m.values()) {
        if (g.empty()) continue;
        out.push({ labels: g.labels, receiver: route.opts.receiver, route, alerts: [...g.alerts.values()] });
      }
    }
    return out;
  }
}
