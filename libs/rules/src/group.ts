import { labelsKey, prometheusLabelsHash, STALE_NAN, type Labels } from '@pharos/model';
import type { RuleGroupConfig } from './rule-file.js';
import {
  AlertingRule,
  RecordingRule,
  type Alert,
  type EvalEnv,
  type Rule,
  type RuleQuery,
  type RuleSample,
} from './rules.js';

/** Where rule results go: the write path, resolving once they are visible to queries. */
export type RuleAppender = (samples: readonly RuleSample[]) => Promise<void>;

/** Hands alerts that are due to the notifier; `expr` is the rule's query (for generatorURL). */
export type NotifyFunc = (expr: string, alerts: readonly Alert[]) => void;

/** The last sample of each ALERTS_FOR_STATE series in a window: what restoring reads. */
export interface ForStateSeries {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** Reads ALERTS_FOR_STATE series of one rule in (mint, maxt]. */
export type ForStateQuery = (matchers: Labels, mint: number, maxt: number) => Promise<ForStateSeries[]>;

export interface GroupOptions {
  readonly query: RuleQuery;
  readonly append: RuleAppender;
  readonly notify: NotifyFunc;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly resendDelay: number;
  /** Global evaluation_interval and rule_query_offset, for groups that do not set their own. */
  readonly defaultInterval: number;
  readonly defaultQueryOffset: number;
  /** Called after each rule's evaluation, for the evaluation and failure counters. */
  readonly onEvaluated?: (ok: boolean) => void;
  readonly onError?: (rule: Rule, err: Error) => void;
  readonly onAppendError?: (err: Error) => void;
}

/** A rule group: its rules evaluated in order on its interval, results written back. */
export class Group {
  readonly name: string;
  readonly file: string;
  readonly interval: number;
  readonly limit: number;
  readonly queryOffset: number;
  readonly rules: Rule[];
  /** Result series of each rule's previous evaluation, to mark the missing ones stale. */
  private seriesInPreviousEval: Array<Map<string, Labels>>;
  /** Series of rules removed by a reload, marked stale at the next evaluation. */
  private staleSeries: Labels[] = [];
  lastEvaluation = 0;
  evaluationDurationMs = 0;
  iterationsMissed = 0;
  iterations = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly cfg: RuleGroupConfig,
    private readonly opts: GroupOptions,
    /** False on the first start: alerting rules wait for their for-state to be restored. */
    restored: boolean,
  ) {
    this.name = cfg.name;
    this.file = cfg.file;
    this.interval = cfg.interval || opts.defaultInterval;
    this.limit = cfg.limit;
    this.queryOffset = cfg.queryOffset ?? opts.defaultQueryOffset;
    this.rules = cfg.rules.map((r) => {
      const withGroupLabels = { ...r, labels: { ...cfg.labels, ...r.labels } };
      return r.alert !== undefined
        ? new AlertingRule(withGroupLabels, restored)
        : new RecordingRule(withGroupLabels);
    });
    this.seriesInPreviousEval = this.rules.map(() => new Map());
  }

  get key(): string {
    return `${this.file};${this.name}`;
  }

  /** Groups compare by what they would do: a reload keeps an unchanged group running as it is. */
  equals(other: Group): boolean {
    return (
      this.interval === other.interval &&
      this.queryOffset === other.queryOffset &&
      this.limit === other.limit &&
      JSON.stringify(this.cfg.labels) === JSON.stringify(other.cfg.labels) &&
      JSON.stringify(this.cfg.rules.map(ruleShape)) === JSON.stringify(other.cfg.rules.map(ruleShape))
    );
  }

  /**
   * The evaluation slot at or before `now`: aligned to the interval with a phase from the
   * group's name and file, so groups spread out and a restart keeps the same rhythm (upstream
   * does this in nanoseconds; milliseconds are what storage keeps).
   */
  evalTimestamp(now: number): number {
    const hash = prometheusLabelsHash([
      { name: 'file', value: this.file },
      { name: 'name', value: this.name },
    ]);
    const offsetNs = hash % BigInt(this.interval * 1e6);
    const offset = Number(offsetNs / 1_000_000n);
    const adj = now - offset;
    return adj - (((adj % this.interval) + this.interval) % this.interval) + offset;
  }

  /** One evaluation at `ts`: every rule in order, each result visible to the rules after it. */
  async eval(ts: number): Promise<void> {
    const started = Date.now();
    const env: EvalEnv = {
      query: this.opts.query,
      externalLabels: this.opts.externalLabels,
      externalURL: this.opts.externalURL,
      queryOffset: this.queryOffset,
      limit: this.limit,
    };
    for (let i = 0; i < this.rules.length; i++) {
      if (this.stopped) return;
      const rule = this.rules[i];
      const t0 = Date.now();
      let vector: RuleSample[];
      try {
        vector = await rule.eval(ts, env);
        rule.health = 'ok';
        rule.lastError = '';
      } catch (e) {
        rule.health = 'err';
        rule.lastError = (e as Error).message;
        rule.evaluationTimestamp = t0;
        rule.evaluationDurationMs = Date.now() - t0;
        this.opts.onEvaluated?.(false);
        this.opts.onError?.(rule, e as Error);
        continue;
      }
      this.opts.onEvaluated?.(true);
      if (rule instanceof AlertingRule) {
        const due = rule.alertsToSend(ts, this.opts.resendDelay, this.interval);
        if (due.length > 0) this.opts.notify(rule.query, due);
      }
      const returned = new Map<string, Labels>();
      for (const s of vector) returned.set(labelsKey(s.labels), s.labels);
      const out: RuleSample[] = [...vector];
      for (const [k, labels] of this.seriesInPreviousEval[i]) {
        if (!returned.has(k)) out.push({ labels, t: ts - this.queryOffset, v: STALE_NAN });
      }
      await this.write(out);
      this.seriesInPreviousEval[i] = returned;
      rule.evaluationTimestamp = t0;
      rule.evaluationDurationMs = Date.now() - t0;
    }
    if (this.staleSeries.length > 0) {
      const stale = this.staleSeries.map((labels) => ({ labels, t: ts - this.queryOffset, v: STALE_NAN }));
      this.staleSeries = [];
      await this.write(stale);
    }
    this.lastEvaluation = started;
    this.evaluationDurationMs = Date.now() - started;
    this.iterations++;
  }

  private async write(samples: readonly RuleSample[]): Promise<void> {
    if (samples.length === 0) return;
    try {
      await this.opts.append(samples);
    } catch (e) {
      this.opts.onAppendError?.(e as Error);
    }
  }

  /** Takes over alert and staleness state of the group this one replaces in a reload. */
  copyState(from: Group): void {
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationDurationMs = from.evaluationDurationMs;
    const byIdentity = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const list = byIdentity.get(r.identity()) ?? [];
      list.push(i);
      byIdentity.set(r.identity(), list);
    });
    this.rules.forEach((rule, i) => {
      const list = byIdentity.get(rule.identity());
      if (!list || list.length === 0) return;
      const fi = list.shift() as number;
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[fi];
      const old = from.rules[fi];
      if (rule instanceof AlertingRule && old instanceof AlertingRule) {
        for (const [k, a] of old.active) rule.active.set(k, a);
        rule.restored = old.restored || rule.restored;
      }
    });
    this.staleSeries = [...from.staleSeries];
    for (const [, list] of byIdentity) {
      for (const fi of list) this.staleSeries.push(...from.seriesInPreviousEval[fi].values());
    }
  }

  /** Every series this group last wrote: marked stale when the group goes away in a reload. */
  lastSeries(): Labels[] {
    return [...this.staleSeries, ...this.seriesInPreviousEval.flatMap((m) => [...m.values()])];
  }

  /**
   * Moves the ActiveAt of alerts that were pending or firing before a restart back to what it
   * was, from ALERTS_FOR_STATE, so `for` does not start over (upstream's RestoreForState).
   */
  async restoreForState(
    ts: number,
    read: ForStateQuery,
    outageTolerance: number,
    gracePeriod: number,
  ): Promise<void> {
    for (const rule of this.rules) {
      if (!(rule instanceof AlertingRule)) continue;
      const hold = rule.holdDuration;
      if (hold < gracePeriod) {
        rule.restored = true;
        continue;
      }
      const matchers: Labels = [
        ...rule.labels.filter((l) => l.name !== '__name__' && l.name !== 'alertname'),
        { name: '__name__', value: 'ALERTS_FOR_STATE' },
        { name: 'alertname', value: rule.name },
      ];
      let series: ForStateSeries[];
      try {
        series = await read(matchers, ts - outageTolerance, ts);
      } catch (e) {
        this.opts.onEvaluated?.(false);
        this.opts.onError?.(rule, e as Error);
        continue;
      }
      this.opts.onEvaluated?.(true);
      const byLabels = new Map<string, ForStateSeries>();
      for (const s of series) byLabels.set(labelsKey(s.labels.filter((l) => l.name !== '__name__')), s);
      for (const a of rule.active.values()) {
        const s = byLabels.get(labelsKey(a.labels));
        if (!s || Number.isNaN(s.v)) continue;
        const downAt = Math.floor(s.t / 1000) * 1000;
        let restoredActiveAt = s.v * 1000;
        const remaining = hold - (downAt - restoredActiveAt);
        if (remaining <= 0) {
          // It was firing when the ruler went down; the next evaluation sets it firing again.
        } else if (remaining < gracePeriod) {
          restoredActiveAt = ts + gracePeriod - hold;
        } else {
          restoredActiveAt += ts - downAt;
        }
        a.activeAt = restoredActiveAt;
      }
      rule.restored = true;
    }
  }

  /**
   * Runs the group on its interval until stopped. On the first start (`restore` given) the
   * for-state is restored after the second evaluation, as upstream: by then the recording rules
   * the alerts may depend on have fresh values.
   */
  start(restore?: () => Promise<void>): void {
    let next = this.evalTimestamp(Date.now()) + this.interval;
    let pendingRestore = restore;
    let evaluations = 0;
    const tick = () => {
      if (this.stopped) return;
      const now = Date.now();
      const missed = Math.floor((now - next) / this.interval);
      if (missed > 0) {
        this.iterationsMissed += missed;
        next += missed * this.interval;
      }
      const ts = next;
      next += this.interval;
      this.running = this.eval(ts)
        .then(async () => {
          evaluations++;
          if (pendingRestore && evaluations >= 2) {
            const r = pendingRestore;
            pendingRestore = undefined;
            await r();
          }
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, Math.max(0, next - Date.now()));
        });
    };
    this.timer = setTimeout(tick, Math.max(0, next - Date.now()));
  }

  /** Stops after the evaluation in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
  }
}

function ruleShape(r: RuleGroupConfig['rules'][number]) {
  return [r.record, r.alert, r.expr, r.for, r.keepFiringFor, r.labels, r.annotations];
}

export type { Rule };
