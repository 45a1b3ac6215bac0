import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { resolvedAt, type Alert } from './alert.js';
import type { Inhibitor } from './inhibit.js';
import type { LabelSet } from './labelset.js';
import type { NotificationLog } from './nflog.js';
import type { NotificationTemplates } from './notification-template.js';
import type { Silences } from './silences.js';
import { anyContains, type TimeInterval } from './time-interval.js';

export type IntegrationName = 'webhook' | 'email' | 'slack' | 'pagerduty';

/** What a notification is about: one aggregation group's flush for one receiver. */
export interface NotifyContext {
  readonly groupKey: string;
  readonly receiver: string;
  readonly groupLabels: LabelSet;
  readonly now: number;
  readonly repeatInterval: number;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
  /** Flushes give up retrying at this time (the group interval, at least 10 s). */
  readonly deadline: number;
}

/** A failed send; `retry` says whether trying again may help (5xx, timeouts) or not (4xx). */
export class NotifyError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly reason: 'clientError' | 'serverError' | 'other' = 'other',
  ) {
    super(message);
  }
}

export interface Integration {
  readonly name: IntegrationName;
  readonly index: number;
  readonly sendResolved: boolean;
  send(ctx: NotifyContext, alerts: readonly Alert[], externalURL: string, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export interface Receiver {
  readonly name: string;
  readonly integrations: readonly Integration[];
}

export interface NotifyMetrics {
  readonly total: Counter<'integration'>;
  readonly failed: Counter<'integration' | 'reason'>;
  readonly requests: Counter<'integration'>;
  readonly requestsFailed: Counter<'integration'>;
  readonly latency: Histogram<'integration'>;
}

export const INTEGRATIONS: readonly IntegrationName[] = ['email', 'pagerduty', 'slack', 'webhook'];

export function notifyMetrics(registry: Registry): NotifyMetrics {
  const m: NotifyMetrics = {
    total: new Counter({
      name: 'alertmanager_notifications_total',
      help: 'The total number of attempted notifications.',
      labelNames: ['integration'],
      registers: [registry],
    }),
    failed: new Counter({
      name: 'alertmanager_notifications_failed_total',
      help: 'The total number of failed notifications.',
      labelNames: ['integration', 'reason'],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'alertmanager_notification_requests_total',
      help: 'The total number of attempted notification requests.',
      labelNames: ['integration'],
      registers: [registry],
    }),
    requestsFailed: new Counter({
      name: 'alertmanager_notification_requests_failed_total',
      help: 'The total number of failed notification requests.',
      labelNames: ['integration'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'alertmanager_notification_latency_seconds',
      help: 'The latency of notifications in seconds.',
      labelNames: ['integration'],
      buckets: [1, 5, 10, 15, 20],
      registers: [registry],
    }),
  };
  // Every integration shows up at 0 from the start, as upstream's do.
  for (const i of INTEGRATIONS) {
    m.total.labels(i).inc(0);
    m.requests.labels(i).inc(0);
    m.requestsFailed.labels(i).inc(0);
  }
  return m;
}

export interface PipelineDeps {
  readonly receivers: ReadonlyMap<string, Receiver>;
  readonly inhibitor: Inhibitor;
  readonly silences: Silences;
  readonly nflog: NotificationLog;
  readonly timeIntervals: ReadonlyMap<string, readonly TimeInterval[]>;
  readonly templates: NotificationTemplates;
  readonly externalURL: string;
  readonly metrics: NotifyMetrics;
  readonly logger: Logger;
  /** HA: this replica's position among its peers; it waits position × peerTimeout before sending. */
  readonly peerWait: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** dedupStage.needsUpdate: whether this flush tells the receiver anything new. */
export function needsUpdate(
  entry: { firing: readonly string[]; resolved: readonly string[]; timestamp: number } | undefined,
  firing: ReadonlySet<string>,
  resolved: ReadonlySet<string>,
  sendResolved: boolean,
  repeatInterval: number,
  now: number,
): boolean {
  if (!entry) return firing.size > 0;
  const subset = (now: ReadonlySet<string>, then: readonly string[]) => {
    const prev = new Set(then);
    for (const fp of now) if (!prev.has(fp)) return false;
    return true;
  };
  // Something fires that did not at the last notification.
  if (!subset(firing, entry.firing)) return true;
  // All resolved: notify (whatever send_resolved says) so the log forgets the firing set.
  if (firing.size === 0) return entry.firing.length > 0;
  if (sendResolved && !subset(resolved, entry.resolved)) return true;
  return entry.timestamp < now - repeatInterval;
}

/**
 * The notification pipeline (notify.Pipeline): inhibition, time intervals, silences, then per
 * integration the HA wait, deduplication against the notification log, sending with retries and
 * logging what was sent. Returns whether every integration succeeded.
 */
export class NotificationPipeline {
  /** Aborted by stop: no new flush or retry starts, and waits end at once. */
  private readonly stopping = new AbortController();
  /** Aborted when stop's grace is over: requests still in flight are cut off. */
  private readonly cancel = new AbortController();
  private readonly inflight = new Set<Promise<boolean>>();

  constructor(private readonly deps: PipelineDeps) {}

  async exec(ctx: NotifyContext, alerts: readonly Alert[]): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    const run = this.run(ctx, alerts);
    this.inflight.add(run);
    try {
      return await run;
    } finally {
      this.inflight.delete(run);
    }
  }

  /**
   * Lets sends already in flight finish for up to `graceMs`, then aborts them, so a receiver that
   * never answers cannot hold up shutdown or a reload. What was not sent stays out of the
   * notification log and goes out again from the next flush, here or on a peer.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.allSettled([...this.inflight]), grace]);
    clearTimeout(timer);
    this.cancel.abort(new Error('the alertmanager is stopping'));
    await Promise.allSettled([...this.inflight]);
  }

  /** Sleeps, or returns early once stop is called. */
  private async pause(ms: number): Promise<void> {
    const stop = this.stopping.signal;
    if (stop.aborted) return;
    let onStop: () => void = () => undefined;
    await Promise.race([
      this.deps.sleep(ms),
      new Promise<void>((r) => {
        onStop = r;
        stop.addEventListener('abort', onStop, { once: true });
      }),
    ]);
    stop.removeEventListener('abort', onStop);
  }

  private async run(ctx: NotifyContext, alerts: readonly Alert[]): Promise<boolean> {
    const d = this.deps;
    const active = alerts.filter((a) => d.inhibitor.inhibitedBy(a.labels) === undefined);
    if (active.length === 0) return true;
    const intervals = (names: readonly string[]) => names.flatMap((n) => d.timeIntervals.get(n) ?? []);
    if (ctx.activeTimeIntervals.length > 0 && !anyContains(intervals(ctx.activeTimeIntervals), ctx.now))
      return true;
    if (ctx.muteTimeIntervals.length > 0 && anyContains(intervals(ctx.muteTimeIntervals), ctx.now))
      return true;
    const unsilenced = active.filter((a) => d.silences.mutes(a.labels).length === 0);
    if (unsilenced.length === 0) return true;
    const receiver = d.receivers.get(ctx.receiver);
    if (!receiver) {
      d.logger.error({ receiver: ctx.receiver }, 'notification for an unknown receiver');
      return false;
    }
    const results = await Promise.all(receiver.integrations.map((i) => this.integration(ctx, i, unsilenced)));
    return results.every(Boolean);
  }

  private async integration(
    ctx: NotifyContext,
    integ: Integration,
    alerts: readonly Alert[],
  ): Promise<boolean> {
    const d = this.deps;
    const wait = d.peerWait();
    if (wait > 0) await this.pause(wait);
    if (this.stopping.signal.aborted) return false;
    const key = `${ctx.receiver}/${integ.name}/${integ.index}`;
    const firing = new Set<string>();
    const resolved = new Set<string>();
    for (const a of alerts) (resolvedAt(a, ctx.now) ? resolved : firing).add(a.fingerprint);
    const entry = d.nflog.query(ctx.groupKey, key);
    if (!needsUpdate(entry, firing, resolved, integ.sendResolved, ctx.repeatInterval, ctx.now)) return true;
    const toSend = integ.sendResolved ? alerts : alerts.filter((a) => !resolvedAt(a, ctx.now));
    if (toSend.length > 0) {
      d.metrics.total.labels(integ.name).inc();
      const end = d.metrics.latency.labels(integ.name).startTimer();
      const err = await this.retry(ctx, integ, toSend);
      end();
      if (err) {
        d.metrics.failed.labels(integ.name, err.reason).inc();
        d.logger.error(
          {
            receiver: ctx.receiver,
            integration: `${integ.name}[${integ.index}]`,
            groupKey: ctx.groupKey,
            err: err.message,
          },
          'notify failed',
        );
        return false;
      }
    }
    d.nflog.log(ctx.groupKey, key, [...firing], [...resolved]);
    return true;
  }

  /** Tries until success, a permanent error or the flush deadline, backing off as upstream (×1.5, ≤60 s). */
  private async retry(
    ctx: NotifyContext,
    integ: Integration,
    alerts: readonly Alert[],
  ): Promise<NotifyError | null> {
    const d = this.deps;
    let delay = 500;
    let attempt = 0;
    for (;;) {
      attempt++;
      d.metrics.requests.labels(integ.name).inc();
      // A request may not outlive the flush's deadline, as upstream's context carries it.
      const signal = AbortSignal.any([
        this.cancel.signal,
        AbortSignal.timeout(Math.max(Math.ceil(ctx.deadline - d.now()), 1)),
      ]);
      try {
        await integ.send(ctx, alerts, d.externalURL, signal);
        return null;
      } catch (e) {
        d.metrics.requestsFailed.labels(integ.name).inc();
        const err = e instanceof NotifyError ? e : new NotifyError((e as Error).message, true);
        const left = ctx.deadline - d.now();
        if (!err.retry || left <= 0 || this.stopping.signal.aborted) {
          return new NotifyError(
            `${integ.name}/${integ.index}: notify retry canceled after ${attempt} attempts: ${err.message}`,
            false,
            err.reason,
          );
        }
        d.logger.warn(
          { integration: `${integ.name}[${integ.index}]`, attempt, err: err.message },
          'notify attempt failed, will retry later',
        );
        const wait = Math.min(delay * (0.5 + Math.random()), left);
        delay = Math.min(delay * 1.5, 60_000);
        await this.pause(wait);
      }
    }
  }
}
