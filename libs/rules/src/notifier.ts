import type { Logger } from 'pino';
import { Counter, Gauge, Summary, type Registry } from 'prom-client';
import { request, type Dispatcher } from 'undici';
import type { AlertingConfig, AlertmanagerConfig } from '@pharos/config';
import { labelsFrom, LabelsBuilder, labelsToRecord, type Labels } from '@pharos/model';
import { relabel } from '@pharos/relabel';
import { authorizationHeader, scrapeDispatcher } from '@pharos/scrape';
import type { Alert } from './rules.js';
import type { BusAlert } from '@pharos/transport';
import { goQueryEscape } from './template-data.js';

/** An alert as Alertmanager's API v2 takes it (postableAlert). */
export interface NotifierAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAt: number;
  /** 0: not set. */
  readonly endsAt: number;
  readonly generatorURL: string;
}

/** Where alerts go besides Alertmanagers: the alert bus of the distributed mode. */
export type AlertSink = (alerts: readonly NotifierAlert[]) => void;

const MAX_BATCH = 256;

/** Upstream's sendAlerts (cmd/prometheus): rule alerts to notifier alerts. */
export function toNotifierAlerts(
  expr: string,
  alerts: readonly Alert[],
  externalURL: string,
): NotifierAlert[] {
  const generatorURL = `${externalURL.replace(/\/$/, '')}/graph?g0.expr=${goQueryEscape(expr)}&g0.tab=1`;
  return alerts.map((a) => ({
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.firedAt,
    endsAt: a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil,
    generatorURL,
  }));
}

/** Notifier alerts as the alert bus carries them. */
export function toBusAlerts(alerts: readonly NotifierAlert[]): BusAlert[] {
  return alerts.map((a) => ({
    labels: labelsToRecord(a.labels),
    annotations: labelsToRecord(a.annotations),
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    generatorURL: a.generatorURL,
  }));
}

interface Target {
  readonly url: string;
  readonly cfg: AlertmanagerConfig;
  readonly dispatcher: Dispatcher;
}

/** The JSON body Alertmanager's POST /api/v2/alerts takes. */
export function alertsJSON(alerts: readonly NotifierAlert[]): string {
  return JSON.stringify(
    alerts.map((a) => ({
      labels: labelsToRecord(a.labels),
      annotations: labelsToRecord(a.annotations),
      startsAt: a.startsAt !== 0 ? new Date(a.startsAt).toISOString() : undefined,
      endsAt: a.endsAt !== 0 ? new Date(a.endsAt).toISOString() : undefined,
      generatorURL: a.generatorURL,
    })),
  );
}

/**
 * Queues alerts and posts them in batches to every configured Alertmanager (API v2), as
 * Prometheus' notifier: external labels added, alert_relabel_configs applied, the oldest alerts
 * dropped when the queue is full, and the queue drained on shutdown.
 */
export class Notifier {
  private queue: NotifierAlert[] = [];
  private targets: Target[] = [];
  private cfg: AlertingConfig = { alertRelabelConfigs: [], alertmanagers: [] };
  private externalLabels: Readonly<Record<string, string>> = {};
  private sending: Promise<void> | null = null;
  private stopped = false;
  private readonly sinks: AlertSink[] = [];
  private readonly sent: Counter<'alertmanager'>;
  private readonly errors: Counter<'alertmanager'>;
  private readonly dropped: Counter;
  private readonly latency: Summary<'alertmanager'>;

  constructor(
    private readonly logger: Logger,
    registry: Registry,
    private readonly capacity = 10_000,
  ) {
    const registers = [registry];
    this.sent = new Counter({
      name: 'prometheus_notifications_sent_total',
      help: 'Total number of alerts sent.',
      labelNames: ['alertmanager'],
      registers,
    });
    this.errors = new Counter({
      name: 'prometheus_notifications_errors_total',
      help: 'Total number of sent alerts affected by errors.',
      labelNames: ['alertmanager'],
      registers,
    });
    this.dropped = new Counter({
      name: 'prometheus_notifications_dropped_total',
      help: 'Total number of alerts dropped due to errors when sending to Alertmanager.',
      registers,
    });
    this.latency = new Summary({
      name: 'prometheus_notifications_latency_seconds',
      help: 'Latency quantiles for sending alert notifications.',
      labelNames: ['alertmanager'],
      percentiles: [0.5, 0.9, 0.99],
      registers,
    });
    const queueLength = () => this.queue.length;
    new Gauge({
      name: 'prometheus_notifications_queue_length',
      help: 'The number of alert notifications in the queue.',
      registers,
      collect() {
        this.set(queueLength());
      },
    });
    new Gauge({
      name: 'prometheus_notifications_queue_capacity',
      help: 'The capacity of the alert notifications queue.',
      registers,
    }).set(capacity);
    const discovered = () => this.targets.length;
    new Gauge({
      name: 'prometheus_notifications_alertmanagers_discovered',
      help: 'The number of alertmanagers discovered and active.',
      registers,
      collect() {
        this.set(discovered());
      },
    });
  }

  /** Also hands every batch to `sink` (the alert bus to Pharos' own alertmanager). */
  addSink(sink: AlertSink): void {
    this.sinks.push(sink);
  }

  applyConfig(cfg: AlertingConfig, externalLabels: Readonly<Record<string, string>>): void {
    this.cfg = cfg;
    this.externalLabels = externalLabels;
    const targets: Target[] = [];
    for (const am of cfg.alertmanagers) {
      const dispatcher = scrapeDispatcher(am.http);
      for (const sc of am.staticConfigs) {
        for (const address of sc.targets) {
          const base = labelsFrom({
            ...sc.labels,
            __address__: address,
            __scheme__: am.scheme,
            __alerts_path__: `${am.pathPrefix.replace(/\/$/, '')}/api/v2/alerts`,
          });
          const lbls = relabel(base, am.relabelConfigs);
          if (lbls === null) continue;
          const rec = labelsToRecord(lbls);
          targets.push({
            url: `${rec.__scheme__}://${rec.__address__}${rec.__alerts_path__}`,
            cfg: am,
            dispatcher,
          });
        }
      }
    }
    // Each reload builds new connection pools; the old ones would otherwise stay open.
    const old = new Set(this.targets.map((t) => t.dispatcher));
    this.targets = targets;
    for (const d of old) d.close().catch(() => undefined);
  }

  /** Alertmanager URLs in use, for /api/v1/alertmanagers. */
  alertmanagers(): string[] {
    return this.targets.map((t) => t.url);
  }

  send(alerts: readonly NotifierAlert[]): void {
    if (this.stopped) return;
    const prepared: NotifierAlert[] = [];
    for (const a of alerts) {
      const b = new LabelsBuilder(a.labels);
      for (const [k, v] of Object.entries(this.externalLabels)) if (b.get(k) === '') b.set(k, v);
      const labels = relabel(b.labels(), this.cfg.alertRelabelConfigs);
      if (labels === null || labels.length === 0) continue;
      prepared.push({ ...a, labels });
    }
    if (prepared.length === 0) return;
    for (const sink of this.sinks) sink(prepared);
    if (this.targets.length === 0) return;
    this.queue.push(...prepared);
    if (this.queue.length > this.capacity) {
      const over = this.queue.length - this.capacity;
      this.queue.splice(0, over);
      this.dropped.inc(over);
      this.logger.warn({ dropped: over }, 'alert notification queue full, dropping alerts');
    }
    this.kick();
  }

  private kick(): void {
    if (this.sending) return;
    this.sending = this.drainQueue().finally(() => {
      this.sending = null;
      if (this.queue.length > 0 && !this.stopped) this.kick();
    });
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const results = await Promise.all(this.targets.map((t) => this.post(t, batch)));
      if (!results.some(Boolean)) this.dropped.inc(batch.length);
    }
  }

  private async post(t: Target, all: readonly NotifierAlert[]): Promise<boolean> {
    const alerts =
      t.cfg.alertRelabelConfigs.length === 0
        ? all
        : all.flatMap((a) => {
            const l = relabel(a.labels, t.cfg.alertRelabelConfigs);
            return l === null || l.length === 0 ? [] : [{ ...a, labels: l }];
          });
    if (alerts.length === 0) return true;
    const begin = process.hrtime.bigint();
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'Pharos/0.1.0',
      };
      const auth = authorizationHeader(t.cfg.http);
      if (auth) headers.authorization = auth;
      const res = await request(t.url, {
        method: 'POST',
        body: alertsJSON(alerts),
        headers,
        dispatcher: t.dispatcher,
        headersTimeout: t.cfg.timeout,
        bodyTimeout: t.cfg.timeout,
        signal: AbortSignal.timeout(t.cfg.timeout),
      });
      const text = await res.body.text();
      if (Math.floor(res.statusCode / 100) !== 2) {
        throw new Error(`bad response status ${res.statusCode}: ${text.slice(0, 200)}`);
      }
      this.sent.inc({ alertmanager: t.url }, alerts.length);
      return true;
    } catch (e) {
      this.errors.inc({ alertmanager: t.url }, alerts.length);
      this.logger.error(
        { alertmanager: t.url, count: alerts.length, err: (e as Error).message },
        'error sending alerts',
      );
      return false;
    } finally {
      this.latency.observe({ alertmanager: t.url }, Number(process.hrtime.bigint() - begin) / 1e9);
    }
  }

  /** Sends what is queued, then stops taking alerts. */
  async stop(): Promise<void> {
    while (this.sending) await this.sending;
    this.stopped = true;
    await Promise.all(
      [...new Set(this.targets.map((t) => t.dispatcher))].map((d) => d.close().catch(() => undefined)),
    );
  }
}
