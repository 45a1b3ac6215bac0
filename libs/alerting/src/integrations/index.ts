import type { ReceiverConfig } from '../config.js';
import type { NotificationTemplates } from '../notification-template.js';
import type { Integration, Receiver } from '../notify.js';
import { EmailIntegration } from './email.js';
import { PagerdutyIntegration } from './pagerduty.js';
import { SlackIntegration } from './slack.js';
import { WebhookIntegration } from './webhook.js';

export { webhookMessage } from './webhook.js';
export { groupKeyHash } from './pagerduty.js';

/** One integration per configured *_configs entry, indexed per kind as upstream names them. */
export function buildReceiver(cfg: ReceiverConfig, templates: NotificationTemplates): Receiver {
  const counts = new Map<string, number>();
  const integrations = cfg.integrations.map((ic): Integration => {
    const i = counts.get(ic.kind) ?? 0;
    counts.set(ic.kind, i + 1);
    switch (ic.kind) {
      case 'webhook':
        return new WebhookIntegration(ic, i);
      case 'email':
        return new EmailIntegration(ic, i, templates);
      case 'slack':
        return new SlackIntegration(ic, i, templates);
      case 'pagerduty':
        return new PagerdutyIntegration(ic, i, templates);
    }
  });
  return { name: cfg.name, integrations };
}
