import { Option } from 'commander';
import { parseDuration } from '@pharos/config';
import { flagArg } from '@pharos/observability';

/** The rule and notifier flags of the all-in-one and the ruler role: one definition, one default. */
export interface RuleFlags {
  readonly forOutageTolerance: number;
  readonly forGracePeriod: number;
  readonly resendDelay: number;
  readonly notificationQueueCapacity: number;
}

export function ruleOptions(): Option[] {
  return [
    new Option(
      '--rules.alert.for-outage-tolerance <duration>',
      'Max time to tolerate prometheus outage for restoring "for" state of alert.',
    )
      .default('1h')
      .argParser(flagArg.duration),
    new Option(
      '--rules.alert.for-grace-period <duration>',
      'Minimum duration between alert and restored "for" state. This is maintained only for alerts with configured "for" time greater than grace period.',
    )
      .default('10m')
      .argParser(flagArg.duration),
    new Option(
      '--rules.alert.resend-delay <duration>',
      'Minimum amount of time to wait before resending an alert to Alertmanager.',
    )
      .default('1m')
      .argParser(flagArg.duration),
    new Option(
      '--alertmanager.notification-queue-capacity <n>',
      'The capacity of the queue for pending Alertmanager notifications.',
    )
      .default('10000')
      .argParser(flagArg.int(1)),
  ];
}

export function parseRuleFlags(opts: Readonly<Record<string, string | boolean | undefined>>): RuleFlags {
  return {
    forOutageTolerance: parseDuration(String(opts['rules.alert.for-outage-tolerance'])),
    forGracePeriod: parseDuration(String(opts['rules.alert.for-grace-period'])),
    resendDelay: parseDuration(String(opts['rules.alert.resend-delay'])),
    notificationQueueCapacity: Number(opts['alertmanager.notification-queue-capacity']),
  };
}
