import {
  labelsFrom,
  labelsKey,
  labelsToRecord,
  LabelsBuilder,
  METRIC_NAME,
  type FloatHistogram,
  type Labels,
} from '@pharos/model';
import { formatExpr, parseExpr, type Expr } from '@pharos/promql';
import type { RuleConfig } from './rule-file.js';
import { expandRuleTemplate, type TemplateQuery } from './template-data.js';

/** One element of a rule's result: written back at `t`. */
export interface RuleSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  readonly h?: FloatHistogram;
}

/** Evaluates an instant query for a rule: a vector, or a scalar as one sample without labels. */
export type RuleQuery = (expr: Expr, ts: number) => Promise<RuleSample[]>;

export type RuleHealth = 'unknown' | 'ok' | 'err';
export type AlertState = 'inactive' | 'pending' | 'firing';

/** Times are ms since the epoch; 0 is Go's zero time (never). */
export interface Alert {
  state: AlertState;
  readonly labels: Labels;
  annotations: Labels;
  value: number;
  activeAt: number;
  firedAt: number;
  resolvedAt: number;
  lastSentAt: number;
  validUntil: number;
  keepFiringSince: number;
}

export interface EvalEnv {
  readonly query: RuleQuery;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly queryOffset: number;
  readonly limit: number;
}

export const ALERTS = 'ALERTS';
export const ALERTS_FOR_STATE = 'ALERTS_FOR_STATE';
/** How long a resolved alert is kept (and resent as resolved), as upstream. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

function labelsOf(rec: Readonly<Record<string, string>>): Labels {
  return labelsFrom(Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== '')));
}

function setAll(b: LabelsBuilder, labels: Labels): LabelsBuilder {
  for (const l of labels) b.set(l.name, l.value);
  return b;
}

abstract class BaseRule {
  health: RuleHealth = 'unknown';
  lastError = '';
  evaluationTimestamp = 0;
  evaluationDurationMs = 0;
  readonly labels: Labels;
  readonly query: string;

  constructor(readonly cfg: RuleConfig) {
    this.labels = labelsOf(cfg.labels);
    this.query = formatExpr(cfg.parsed);
  }

  abstract get name(): string;

  /** What identifies a rule across reloads: upstream matches rules by name and labels. */
  identity(): string {
    return `${this.name}${labelsKey(this.labels)}`;
  }

  abstract eval(ts: number, env: EvalEnv): Promise<RuleSample[]>;
}

export class RecordingRule extends BaseRule {
  get name(): string {
    return this.cfg.record ?? '';
  }

  async eval(ts: number, env: EvalEnv): Promise<RuleSample[]> {
    const vector = await env.query(this.cfg.parsed, ts - env.queryOffset);
    const seen = new Set<string>();
    const out = vector.map((s) => {
      const labels = setAll(new LabelsBuilder(s.labels).set(METRIC_NAME, this.name), this.labels).labels();
      const key = labelsKey(labels);
      if (seen.has(key))
        throw new Error('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      return { ...s, labels };
    });
    if (env.limit > 0 && out.length > env.limit)
      throw new Error(`exceeded limit of ${env.limit} with ${out.length} series`);
    return out;
  }
}

export class AlertingRule extends BaseRule {
  /** Active alerts (pending, firing, or resolved within the retention) by label set. */
  active = new Map<string, Alert>();
  /** ALERTS and ALERTS_FOR_STATE are written only once the for-state was restored after a start. */
  restored: boolean;
  readonly annotations: Labels;

  constructor(cfg: RuleConfig, restored: boolean) {
    super(cfg);
    this.restored = restored;
    this.annotations = labelsOf(cfg.annotations);
  }

  get name(): string {
    return this.cfg.alert ?? '';
  }

  get holdDuration(): number {
    return this.cfg.for;
  }

  async eval(ts: number, env: EvalEnv): Promise<RuleSample[]> {
    const res = await env.query(this.cfg.parsed, ts - env.queryOffset);
    const templateQuery: TemplateQuery = async (expr, at) => {
      const v = await env.query(parseExpr(expr), at);
      return v.map((s) => ({ labels: labelsToRecord(s.labels), value: s.v }));
    };
    const fresh = new Map<string, Alert>();
    for (const smpl of res) {
      const ctx = {
        name: this.name,
        labels: labelsToRecord(smpl.labels),
        externalLabels: env.externalLabels,
        externalURL: env.externalURL,
        value: smpl.v,
        ts,
        query: templateQuery,
      };
      const b = new LabelsBuilder(smpl.labels).del(METRIC_NAME);
      for (const l of this.labels) b.set(l.name, await expandRuleTemplate(l.value, ctx));
      b.set('alertname', this.name);
      const annotations: Array<{ name: string; value: string }> = [];
      for (const a of this.annotations)
        annotations.push({ name: a.name, value: await expandRuleTemplate(a.value, ctx) });
      const labels = b.labels();
      const key = labelsKey(labels);
      if (fresh.has(key))
        throw new Error('vector contains metrics with the same labelset after applying alert labels');
      fresh.set(key, {
        state: 'pending',
        labels,
        annotations,
        value: smpl.v,
        activeAt: ts,
        firedAt: 0,
        resolvedAt: 0,
        lastSentAt: 0,
        validUntil: 0,
        keepFiringSince: 0,
      });
    }
    for (const [key, a] of fresh) {
      const existing = this.active.get(key);
      if (existing && existing.state !== 'inactive') {
        existing.value = a.value;
        existing.annotations = a.annotations;
        continue;
      }
      this.active.set(key, a);
    }
    const out: RuleSample[] = [];
    let numActivePending = 0;
    for (const [key, a] of this.active) {
      if (!fresh.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.cfg.keepFiringFor > 0) {
          if (a.keepFiringSince === 0) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.cfg.keepFiringFor) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAt !== 0 && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) {
          this.active.delete(key);
        }
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = 0;
      }
      numActivePending++;
      if (a.state === 'pending' && ts - a.activeAt >= this.holdDuration) {
        a.state = 'firing';
        a.firedAt = ts;
      }
      if (this.restored) {
        out.push(this.alertSample(a, ts - env.queryOffset));
        out.push(this.forStateSample(a, ts - env.queryOffset));
      }
    }
    if (env.limit > 0 && numActivePending > env.limit) {
      this.active = new Map();
      throw new Error(`exceeded limit of ${env.limit} with ${numActivePending} alerts`);
    }
    return out;
  }

  private alertSample(a: Alert, t: number): RuleSample {
    const labels = setAll(new LabelsBuilder(this.labels), a.labels)
      .set(METRIC_NAME, ALERTS)
      .set('alertname', this.name)
      .set('alertstate', a.state)
      .labels();
    return { labels, t, v: 1 };
  }

  private forStateSample(a: Alert, t: number): RuleSample {
    const labels = setAll(new LabelsBuilder(this.labels), a.labels)
      .set(METRIC_NAME, ALERTS_FOR_STATE)
      .set('alertname', this.name)
      .labels();
    return { labels, t, v: Math.floor(a.activeAt / 1000) };
  }

  /** The highest state of its alerts: firing > pending > inactive (unknown before the first run). */
  state(): AlertState | 'unknown' {
    if (this.evaluationTimestamp === 0) return 'unknown';
    let max: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') max = 'pending';
    }
    return max;
  }

  /** Alerts that have not resolved. */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.resolvedAt === 0);
  }

  /** Alerts due to be sent now; marks them sent. */
  alertsToSend(ts: number, resendDelay: number, interval: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'pending') continue;
      const due = a.resolvedAt > a.lastSentAt || a.lastSentAt + resendDelay < ts;
      if (!due) continue;
      a.lastSentAt = ts;
      // Room for two failed evaluations or sends before Alertmanager times the alert out.
      a.validUntil = ts + 4 * Math.max(interval, resendDelay);
      out.push({ ...a });
    }
    return out;
  }
}

export type Rule = RecordingRule | AlertingRule;
