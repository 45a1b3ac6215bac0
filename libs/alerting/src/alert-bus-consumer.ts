import type { Logger } from 'pino';
import type { AlertBus, GroupSubscription } from '@pharos/transport';
import type { Alertmanager } from './alertmanager.js';

/**
 * Takes the ruler's alerts off the alert bus as if they were posted to API v2. Every replica reads
 * the whole bus in its own group, so what it accepts is not shared again through the state store.
 */
export function consumeAlertBus(
  am: Alertmanager,
  bus: AlertBus,
  group: string,
  logger: Logger,
): Promise<GroupSubscription> {
  return bus.subscribe(group, (alerts) => {
    for (const err of am.putAlerts(alerts, false)) logger.warn({ err }, 'alert from the alert bus refused');
  });
}
