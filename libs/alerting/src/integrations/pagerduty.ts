import { createHash } from 'node:crypto';
import { readSecret } from '@pharos/config';
import type { Alert } from '../alert.js';
import type { PagerdutyConfig } from '../config.js';
import { dataValue, notificationData, type NotificationTemplates } from '../notification-template.js';
import type { Integration, NotifyContext } from '../notify.js';
import { checkStatus, postJSON } from './http.js';
import { HTTPIntegration } from './http-integration.js';

const V1_URL = 'https://events.pagerduty.com/generic/2010-04-15/create_event.json';
/** PagerDuty rejects summaries over 1024 characters. */
const MAX_SUMMARY = 1024;

/** notify.Key.Hash(): the dedup key PagerDuty uses to tie resolve events to their trigger. */
export function groupKeyHash(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

/** PagerDuty Events API v2 (routing_key), or v1 when only service_key is set. */
export class PagerdutyIntegration extends HTTPIntegration implements Integration {
  readonly name = 'pagerduty';
  constructor(
    private readonly cfg: PagerdutyConfig,
    index: number,
    private readonly templates: NotificationTemplates,
  ) {
    super(cfg, index);
  }

  async message(ctx: NotifyContext, alerts: readonly Alert[], externalURL: string) {
    const nd = notificationData(ctx.receiver, ctx.groupLabels, alerts, externalURL, ctx.now);
    const data = dataValue(nd);
    const c = this.cfg;
    const t = (s: string) => this.templates.render(s, data);
    const details: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.details)) details[k] = await t(v);
    const firing = nd.status === 'firing';
    const dedupKey = groupKeyHash(ctx.groupKey);
    let description = await t(c.description);
    if ([...description].length > MAX_SUMMARY)
      description = [...description].slice(0, MAX_SUMMARY - 1).join('') + '…';
    if (c.routingKey) {
      return {
        url: c.url,
        body: {
          routing_key: readSecret(c.routingKey),
          event_action: firing ? 'trigger' : 'resolve',
          dedup_key: dedupKey,
          client: await t(c.client),
          client_url: await t(c.clientURL),
          ...(firing
            ? {
                payload: {
                  summary: description,
                  source: await t(c.source),
                  severity: await t(c.severity),
                  custom_details: details,
                  ...(c.class ? { class: await t(c.class) } : {}),
                  ...(c.component ? { component: await t(c.component) } : {}),
                  ...(c.group ? { group: await t(c.group) } : {}),
                },
              }
            : {}),
        },
      };
    }
    return {
      url: c.url === 'https://events.pagerduty.com/v2/enqueue' ? V1_URL : c.url,
      body: {
        service_key: readSecret(c.serviceKey),
        event_type: firing ? 'trigger' : 'resolve',
        incident_key: dedupKey,
        description,
        client: await t(c.client),
        client_url: await t(c.clientURL),
        details,
      },
    };
  }

  async send(
    ctx: NotifyContext,
    alerts: readonly Alert[],
    externalURL: string,
    signal: AbortSignal,
  ): Promise<void> {
    const { url, body } = await this.message(ctx, alerts, externalURL);
    checkStatus(await postJSON(url, body, this.cfg.http, this.dispatcher, signal), [429]);
  }
}
