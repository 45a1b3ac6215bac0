import { Metadata, status, type Server, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  RulerClient,
  RulerService,
  type RuleGroupProto,
  type RuleProto,
  type RulesResponse,
} from '@pharos/proto';
import { AlertingRule, type RuleManager } from '@pharos/rules';
import { insecureChannel, type GrpcChannelSecurity } from '@pharos/transport';

/** What /api/v1/rules, /api/v1/alerts and /api/v1/alertmanagers answer from. */
export interface RuleState {
  readonly groups: readonly RuleGroupProto[];
  readonly alertmanagers: readonly string[];
  /** Rulers that did not answer, named: the answer is partial, not failed. */
  readonly warnings: readonly string[];
}

export type RuleSource = () => Promise<RuleState>;

/** A rule manager's groups in the one shape both modes render (and the Ruler service carries). */
export function ruleGroupsOf(m: RuleManager): RuleGroupProto[] {
  return m.groups().map((g) => ({
    name: g.name,
    file: g.file,
    intervalMs: g.interval,
    limit: g.limit,
    evaluationDurationMs: g.evaluationDurationMs,
    lastEvaluationMs: g.lastEvaluation,
    rules: g.rules.map((r): RuleProto => {
      const common = {
        name: r.name,
        query: r.query,
        labels: [...r.labels],
        health: r.health,
        lastError: r.lastError,
        evaluationDurationMs: r.evaluationDurationMs,
        lastEvaluationMs: r.evaluationTimestamp,
      };
      if (!(r instanceof AlertingRule))
        return {
          ...common,
          type: 'recording',
          annotations: [],
          state: '',
          forMs: 0,
          keepFiringForMs: 0,
          alerts: [],
        };
      return {
        ...common,
        type: 'alerting',
        annotations: [...r.annotations],
        state: r.state(),
        forMs: r.cfg.for,
        keepFiringForMs: r.cfg.keepFiringFor,
        alerts: r.activeAlerts().map((a) => ({
          labels: [...a.labels],
          annotations: [...a.annotations],
          state: a.state,
          activeAtMs: a.activeAt,
          keepFiringSinceMs: a.keepFiringSince,
          value: a.value,
        })),
      };
    }),
  }));
}

/** The rules of this process (the all-in-one, or a ruler serving the Ruler service). */
export function localRuleSource(
  m: RuleManager | undefined,
  alertmanagers: () => readonly string[] = () => [],
): RuleSource {
  return async () => ({ groups: m ? ruleGroupsOf(m) : [], alertmanagers: alertmanagers(), warnings: [] });
}

/** Serves pharos.v1.Ruler from `source` (a ruler role's own rules). */
export function addRulerService(server: Server, source: RuleSource): void {
  server.addService(RulerService, {
    rules: (_call: unknown, cb: (err: Partial<ServiceError> | null, res?: RulesResponse) => void) => {
      source().then(
        (s) => cb(null, { groups: [...s.groups], alertmanagers: [...s.alertmanagers] }),
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          cb({ code: status.INTERNAL, message, details: message });
        },
      );
    },
  });
}

const groupOrder = (a: RuleGroupProto, b: RuleGroupProto) =>
  a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * The rules of every ruler, as one Prometheus would list them: groups in file and name order,
 * a group two rulers both evaluate once (the one evaluated last), Alertmanagers once each. A
 * ruler that does not answer within `timeoutMs` is named in a warning.
 */
export function remoteRuleSource(
  addresses: readonly string[],
  opts: { channel?: GrpcChannelSecurity; timeoutMs?: number; logger?: Logger } = {},
): { source: RuleSource; close: () => void } {
  const channel = opts.channel ?? insecureChannel();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const clients = addresses.map((a) => ({
    address: a,
    client: new RulerClient(a, channel.credentials, channel.options),
  }));
  const ask = (c: (typeof clients)[number]) =>
    new Promise<RulesResponse>((resolve, reject) =>
      c.client.rules({}, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  const source: RuleSource = async () => {
    const answers = await Promise.allSettled(clients.map(ask));
    const byKey = new Map<string, RuleGroupProto>();
    const alertmanagers = new Set<string>();
    const warnings: string[] = [];
    answers.forEach((a, i) => {
      if (a.status === 'rejected') {
        const e = a.reason as Partial<ServiceError>;
        const why = e.details || e.message || String(a.reason);
        warnings.push(`ruler ${clients[i].address} did not answer: ${why}`);
        opts.logger?.warn({ ruler: clients[i].address, err: why }, 'ruler did not answer for its rules');
        return;
      }
      for (const g of a.value.groups) {
        const key = `${g.file}\u0000${g.name}`;
        const had = byKey.get(key);
        if (!had || g.lastEvaluationMs > had.lastEvaluationMs) byKey.set(key, g);
      }
      for (const url of a.value.alertmanagers) alertmanagers.add(url);
    });
    return { groups: [...byKey.values()].sort(groupOrder), alertmanagers: [...alertmanagers], warnings };
  };
  return { source, close: () => clients.forEach((c) => c.client.close()) };
}
