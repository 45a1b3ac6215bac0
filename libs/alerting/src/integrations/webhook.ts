import { readSecret } from '@pharos/config';
import { goTimeJSON } from '@pharos/template';
import type { Alert } from '../alert.js';
import type { WebhookConfig } from '../config.js';
import { GO_ZERO_TIME, notificationData, type NotificationData } from '../notification-template.js';
import type { Integration, NotifyContext } from '../notify.js';
import { checkStatus, postJSON } from './http.js';
import { HTTPIntegration } from './http-integration.js';

const timeJSON = (ms: number) => goTimeJSON(ms === 0 ? GO_ZERO_TIME : ms);

/** The webhook payload, version 4, with fields in upstream's order. */
export function webhookMessage(d: NotificationData, groupKey: string, maxAlerts: number) {
  const alerts = maxAlerts > 0 ? d.alerts.slice(0, maxAlerts) : d.alerts;
  return {
    receiver: d.receiver,
    status: d.status,
    alerts: alerts.map(({ status, alert: a }) => ({
      status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: timeJSON(a.startsAt),
      endsAt: timeJSON(a.endsAt),
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
    groupLabels: d.groupLabels,
    commonLabels: d.commonLabels,
    commonAnnotations: d.commonAnnotations,
    externalURL: d.externalURL,
    version: '4',
    groupKey,
    truncatedAlerts: d.alerts.length - alerts.length,
  };
}

export class WebhookIntegration extends HTTPIntegration implements Integration {
  readonly name = 'webhook';
  constructor(
    private readonly cfg: WebhookConfig,
    index: number,
  ) {
    super(cfg, index);
  }

  async send(
    ctx: NotifyContext,
    alerts: readonly Alert[],
    externalURL: string,
    signal: AbortSignal,
  ): Promise<void> {
    const data = notificationData(ctx.receiver, ctx.groupLabels, alerts, externalURL, ctx.now);
    const url = readSecret(this.cfg.url) ?? '';
    const res = await postJSON(
      url,
      webhookMessage(data, ctx.groupKey, this.cfg.maxAlerts),
      this.cfg.http,
      this.dispatcher,
      signal,
      this.cfg.timeout,
    );
    checkStatus(res);
  }
}
