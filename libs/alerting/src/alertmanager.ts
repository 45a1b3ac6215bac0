import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { resolvedAt, validateAlert, type Alert, type AlertInput } from './alert.js';
import { AlertStore } from './alert-store.js';
import { realClock, type Clock } from './clock.js';
import { loadAlertmanagerConfig, type AlertmanagerConfig } from './config.js';
import { Dispatcher } from './dispatch.js';
import { Inhibitor } from './inhibit.js';
import { buildReceiver } from './integrations/index.js';
import { NotificationLog } from './nflog.js';
import { NotificationTemplates } from './notification-template.js';
import { NotificationPipeline, notifyMetrics, type NotifyMetrics, type Receiver } from './notify.js';
import { Route } from './route.js';
import { Silences, silenceState } from './silences.js';
import type { SharedState } from './state.js';

export interface AlertmanagerOptions {
  readonly configFile: string;
  readonly externalURL: string;
  readonly state: SharedState;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock?: Clock;
  /** How long a replica waits per position before sending (--cluster.peer-timeout). */
  readonly peerTimeout?: number;
  /** --data.retention: how long silences and notification log entries outlive their end. */
  readonly retention?: number;
}

/** An alert as posted to /api/v2/alerts (times in ms, 0 when not given). */
export interface PostableAlert {
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly startsAt?: number;
  readonly endsAt?: number;
  readonly generatorURL?: string;
}

interface Running {
  readonly config: AlertmanagerConfig;
  readonly route: Route;
  readonly inhibitor: Inhibitor;
  readonly dispatcher: Dispatcher;
  readonly pipeline: NotificationPipeline;
  readonly receivers: ReadonlyMap<string, Receiver>;
}

/** How long sends in flight may go on after a stop or reload before they are aborted. */
const SEND_GRACE = 5_000;

/** Alertmanager: the alert store, silences, notification log and the configured dispatch. */
export class Alertmanager {
  readonly store = new AlertStore();
  readonly silences: Silences;
  readonly nflog: NotificationLog;
  readonly clock: Clock;
  readonly startedAt: number;
  private running: Running | null = null;
  private readonly metrics: NotifyMetrics;
  private readonly received: Counter<'status' | 'version'>;
  private readonly invalid: Counter<'version'>;
  private readonly reloadOK: Gauge;
  private readonly reloadTime: Gauge;
  private readonly configHash: Gauge;
  private gcTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AlertmanagerOptions) {
    this.clock = opts.clock ?? realClock;
    const now = () => this.clock.now();
    this.startedAt = now();
    this.silences = new Silences(now, opts.retention);
    this.nflog = new NotificationLog(now, opts.retention);
    const r = opts.registry;
    this.metrics = notifyMetrics(r);
    this.received = new Counter({
      name: 'alertmanager_alerts_received_total',
      help: 'The total number of received alerts.',
      labelNames: ['status', 'version'],
      registers: [r],
    });
    this.invalid = new Counter({
      name: 'alertmanager_alerts_invalid_total',
      help: 'The total number of received alerts that were invalid.',
      labelNames: ['version'],
      registers: [r],
    });
    this.reloadOK = new Gauge({
      name: 'alertmanager_config_last_reload_successful',
      help: 'Whether the last configuration reload attempt was successful.',
      registers: [r],
    });
    this.reloadTime = new Gauge({
      name: 'alertmanager_config_last_reload_success_timestamp_seconds',
      help: 'Timestamp of the last successful configuration reload.',
      registers: [r],
    });
    this.configHash = new Gauge({
      name: 'alertmanager_config_hash',
      help: 'Hash of the currently loaded alertmanager configuration.',
      registers: [r],
    });
    // prom-client calls collect() with the metric as `this`; arrow functions reach the manager.
    const alertCounts = () => {
      const counts = { active: 0, suppressed: 0, unprocessed: 0 };
      for (const a of this.visibleAlerts()) counts[this.alertStatus(a).state]++;
      return counts;
    };
    const silenceCounts = () => {
      const counts = { active: 0, pending: 0, expired: 0 };
      const t = this.clock.now();
      for (const s of this.silences.list()) counts[silenceState(s, t)]++;
      return counts;
    };
    const groupCount = () => this.running?.dispatcher.groupCount() ?? 0;
    new Gauge({
      name: 'alertmanager_alerts',
      help: 'How many alerts by state.',
      labelNames: ['state'],
      registers: [r],
      collect() {
        for (const [k, v] of Object.entries(alertCounts())) this.labels(k).set(v);
      },
    });
    new Gauge({
      name: 'alertmanager_dispatcher_aggregation_groups',
      help: 'Number of active aggregation groups',
      registers: [r],
      collect() {
        this.set(groupCount());
      },
    });
    new Gauge({
      name: 'alertmanager_silences',
      help: 'How many silences by state.',
      labelNames: ['state'],
      registers: [r],
      collect() {
        for (const [k, v] of Object.entries(silenceCounts())) this.labels(k).set(v);
      },
    });
  }

  get config(): AlertmanagerConfig {
    if (!this.running) throw new Error('alertmanager not started');
    return this.running.config;
  }

  get route(): Route {
    if (!this.running) throw new Error('alertmanager not started');
    return this.running.route;
  }

  get dispatcher(): Dispatcher {
    if (!this.running) throw new Error('alertmanager not started');
    return this.running.dispatcher;
  }

  async start(): Promise<void> {
    await this.opts.state.start({
      silences: this.silences,
      nflog: this.nflog,
      receiveAlerts: (alerts) => this.store.put(alerts),
    });
    this.reload();
    this.gcTimer = setInterval(() => {
      const gone = this.store.gc(this.clock.now());
      this.running?.inhibitor.forget(gone);
    }, 30 * 60_000);
    this.gcTimer.unref();
  }

  /** Makes the silence changes so far durable in the shared state (before an API answer). */
  persistSilences(): Promise<void> {
    return this.opts.state.persistSilences();
  }

  /** Loads the config file and swaps dispatch over to it; a bad file keeps the old one and throws. */
  reload(): void {
    let cfg: AlertmanagerConfig;
    let templates: NotificationTemplates;
    try {
      cfg = loadAlertmanagerConfig(this.opts.configFile);
      templates = NotificationTemplates.load(cfg.templates);
    } catch (e) {
      this.reloadOK.set(0);
      throw e;
    }
    this.apply(cfg, templates);
    // Said at every load, as prometheus.yml's are: a field that is ignored is never ignored silently.
    for (const w of cfg.warnings) this.opts.logger.warn({ file: this.opts.configFile }, w);
    this.reloadOK.set(1);
    this.reloadTime.set(Math.floor(Date.now() / 1000));
    const h = createHash('sha256').update(cfg.original).digest();
    this.configHash.set(h.readUInt32BE(0) * 2 ** 16 + h.readUInt16BE(4));
  }

  private apply(config: AlertmanagerConfig, templates: NotificationTemplates): void {
    const old = this.running;
    old?.dispatcher.stop();
    old?.inhibitor.stop();
    const now = () => this.clock.now();
    const route = new Route(config.route);
    const inhibitor = new Inhibitor(config.inhibitRules, this.store, now);
    const receivers = new Map(config.receivers.map((r) => [r.name, buildReceiver(r, templates)]));
    const pipeline = new NotificationPipeline({
      receivers,
      inhibitor,
      silences: this.silences,
      nflog: this.nflog,
      timeIntervals: config.timeIntervals,
      templates,
      externalURL: this.opts.externalURL,
      metrics: this.metrics,
      logger: this.opts.logger,
      peerWait: () => this.opts.state.position() * (this.opts.peerTimeout ?? 15_000),
      sleep: (ms) => new Promise((r) => this.clock.after(ms, () => r())),
      now,
    });
    const dispatcher = new Dispatcher(
      route,
      this.store,
      (ctx, alerts) => pipeline.exec(ctx, alerts),
      this.clock,
      this.opts.logger,
    );
    this.running = { config, route, inhibitor, dispatcher, pipeline, receivers };
    dispatcher.start();
    if (old) void retire(old);
  }

  /** Validates and stores posted alerts (api/v2 postAlertsHandler); returns the errors of the invalid ones. */
  putAlerts(posted: readonly PostableAlert[], share = true): string[] {
    const now = this.clock.now();
    const resolveTimeout = this.running?.config.global.resolveTimeout ?? 5 * 60_000;
    const valid: AlertInput[] = [];
    const errors: string[] = [];
    for (const p of posted) {
      let startsAt = p.startsAt ?? 0;
      let endsAt = p.endsAt ?? 0;
      let timeout = false;
      if (startsAt === 0) startsAt = endsAt === 0 ? now : endsAt;
      if (endsAt === 0) {
        timeout = true;
        endsAt = now + resolveTimeout;
      }
      this.received.labels(endsAt > now ? 'firing' : 'resolved', 'v2').inc();
      const labels = Object.fromEntries(Object.entries(p.labels).filter(([, v]) => v !== ''));
      const a: AlertInput = {
        labels,
        annotations: p.annotations ?? {},
        startsAt,
        endsAt,
        generatorURL: p.generatorURL ?? '',
        updatedAt: now,
        timeout,
      };
      const err = validateAlert(a);
      if (err) {
        errors.push(err);
        this.invalid.labels('v2').inc();
        continue;
      }
      valid.push(a);
    }
    const stored = this.store.put(valid);
    if (share && stored.length > 0) this.opts.state.shareAlerts(stored);
    return errors;
  }

  /** Alerts the API lists: everything not yet resolved. */
  visibleAlerts(): Alert[] {
    const now = this.clock.now();
    return this.store.list().filter((a) => !resolvedAt(a, now));
  }

  alertStatus(a: Alert): {
    state: 'active' | 'suppressed' | 'unprocessed';
    silencedBy: string[];
    inhibitedBy: string[];
  } {
    const silencedBy = this.silences.mutes(a.labels);
    const by = this.running?.inhibitor.inhibitedBy(a.labels);
    const inhibitedBy = by ? [by] : [];
    const state = silencedBy.length > 0 || inhibitedBy.length > 0 ? 'suppressed' : 'active';
    return { state, silencedBy, inhibitedBy };
  }

  /** The receivers the routing tree sends an alert to, in route order. */
  receiversFor(a: Alert): string[] {
    return this.route.match(a.labels).map((r) => r.opts.receiver);
  }

  peers() {
    return this.opts.state.peers();
  }

  clusterStatus() {
    return this.opts.state.status();
  }

  async stop(): Promise<void> {
    if (this.gcTimer) clearInterval(this.gcTimer);
    const r = this.running;
    r?.dispatcher.stop();
    r?.inhibitor.stop();
    if (r) await retire(r);
    await this.opts.state.stop();
  }
}

async function retire(r: Running): Promise<void> {
  await r.pipeline.stop(SEND_GRACE);
  await closeReceivers(r.receivers);
}

async function closeReceivers(receivers: ReadonlyMap<string, Receiver>): Promise<void> {
  await Promise.all(
    [...receivers.values()].flatMap((r) => r.integrations.map((i) => i.close?.().catch(() => undefined))),
  );
}
