import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { globFiles } from '@pharos/config';
import { STALE_NAN } from '@pharos/model';
import { Group, type ForStateQuery, type NotifyFunc, type RuleAppender } from './group.js';
import { loadRuleFile, RuleFileError, type RuleGroupConfig } from './rule-file.js';
import { AlertingRule, type RuleQuery } from './rules.js';

export interface RuleManagerOptions {
  readonly query: RuleQuery;
  readonly append: RuleAppender;
  readonly notify: NotifyFunc;
  readonly readForState: ForStateQuery;
  readonly logger: Logger;
  readonly registry: Registry;
  /** --rules.alert.resend-delay (1m). */
  readonly resendDelay?: number;
  /** --rules.alert.for-outage-tolerance (1h). */
  readonly outageTolerance?: number;
  /** --rules.alert.for-grace-period (10m). */
  readonly gracePeriod?: number;
}

export interface RuleSettings {
  /** rule_files patterns; relative ones are resolved against `baseDir` (the config file's). */
  readonly patterns: readonly string[];
  readonly baseDir: string;
  readonly evaluationInterval: number;
  readonly queryOffset: number;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
}

/** Every problem of every rule file: a reload with these is refused and the old rules kept. */
export class RuleLoadError extends Error {
  constructor(readonly errors: readonly RuleFileError[]) {
    super(errors.flatMap((e) => e.problems).join('; '));
    this.name = 'RuleLoadError';
  }
}

/** Loads rule files and runs their groups; reloads keep the state of unchanged groups and rules. */
export class RuleManager {
  private groupsByKey = new Map<string, Group>();
  private restoredOnce = false;
  private settings: RuleSettings | undefined;
  private readonly evaluations: Counter<'rule_group'>;
  private readonly failures: Counter<'rule_group'>;

  constructor(private readonly opts: RuleManagerOptions) {
    const groups = () => [...this.groupsByKey.values()];
    const registers = [opts.registry];
    this.evaluations = new Counter({
      name: 'prometheus_rule_evaluations_total',
      help: 'The total number of rule evaluations.',
      labelNames: ['rule_group'],
      registers,
    });
    this.failures = new Counter({
      name: 'prometheus_rule_evaluation_failures_total',
      help: 'The total number of rule evaluation failures.',
      labelNames: ['rule_group'],
      registers,
    });
    const perGroup = (name: string, help: string, value: (g: Group) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['rule_group'],
        registers,
        collect() {
          this.reset();
          for (const g of groups()) this.set({ rule_group: g.key }, value(g));
        },
      });
    perGroup(
      'prometheus_rule_group_interval_seconds',
      'The interval of a rule group.',
      (g) => g.interval / 1000,
    );
    perGroup(
      'prometheus_rule_group_last_duration_seconds',
      'The duration of the last rule group evaluation.',
      (g) => g.evaluationDurationMs / 1000,
    );
    perGroup(
      'prometheus_rule_group_last_evaluation_timestamp_seconds',
      'The timestamp of the last rule group evaluation in seconds.',
      (g) => g.lastEvaluation / 1000,
    );
    perGroup('prometheus_rule_group_rules', 'The number of rules.', (g) => g.rules.length);
    perGroup(
      'prometheus_rule_group_iterations_missed_total',
      'The total number of rule group evaluations missed due to slow rule group evaluation.',
      (g) => g.iterationsMissed,
    );
    perGroup(
      'prometheus_rule_group_iterations_total',
      'The total number of scheduled rule group evaluations, whether executed or missed.',
      (g) => g.iterations + g.iterationsMissed,
    );
  }

  /** Loads the rule files of `settings`; throws RuleLoadError (old rules kept) if any is invalid. */
  static load(settings: RuleSettings): RuleGroupConfig[] {
    const errors: RuleFileError[] = [];
    const groups: RuleGroupConfig[] = [];
    for (const pattern of settings.patterns) {
      const full = isAbsolute(pattern) ? pattern : join(settings.baseDir, pattern);
      let files: string[];
      try {
        files = globFiles(full);
      } catch (e) {
        errors.push(new RuleFileError(pattern, [`${pattern}: ${(e as Error).message}`]));
        continue;
      }
      for (const file of files) {
        try {
          groups.push(...loadRuleFile(file));
        } catch (e) {
          if (e instanceof RuleFileError) errors.push(e);
          else throw e;
        }
      }
    }
    if (errors.length > 0) throw new RuleLoadError(errors);
    return groups;
  }

  /** Applies new rule settings. Unchanged groups keep running untouched. */
  async update(settings: RuleSettings): Promise<void> {
    const configs = RuleManager.load(settings);
    const restore = !this.restoredOnce;
    this.restoredOnce = true;
    this.settings = settings;
    const next = new Map<string, Group>();
    const started: Group[] = [];
    for (const cfg of configs) {
      const g = this.newGroup(cfg, settings, !restore);
      const old = this.groupsByKey.get(g.key);
      if (old && old.equals(g)) {
        next.set(g.key, old);
        continue;
      }
      if (old) {
        await old.stop();
        g.copyState(old);
      }
      next.set(g.key, g);
      started.push(g);
    }
    const removed = [...this.groupsByKey.values()].filter((g) => !next.has(g.key));
    this.groupsByKey = next;
    for (const g of removed) {
      await g.stop();
      const now = Date.now();
      const stale = g.lastSeries().map((labels) => ({ labels, t: now, v: STALE_NAN }));
      if (stale.length > 0) await this.opts.append(stale).catch(() => undefined);
    }
    for (const g of started) {
      g.start(
        restore
          ? () =>
              g.restoreForState(
                Date.now(),
                this.opts.readForState,
                this.opts.outageTolerance ?? 3600_000,
                this.opts.gracePeriod ?? 600_000,
              )
          : undefined,
      );
    }
  }

  private newGroup(cfg: RuleGroupConfig, s: RuleSettings, restored: boolean): Group {
    const key = `${cfg.file};${cfg.name}`;
    const log = this.opts.logger;
    return new Group(
      cfg,
      {
        query: this.opts.query,
        append: this.opts.append,
        notify: this.opts.notify,
        externalLabels: s.externalLabels,
        externalURL: s.externalURL,
        resendDelay: this.opts.resendDelay ?? 60_000,
        defaultInterval: s.evaluationInterval,
        defaultQueryOffset: s.queryOffset,
        onEvaluated: (ok) => {
          this.evaluations.inc({ rule_group: key });
          if (!ok) this.failures.inc({ rule_group: key });
        },
        onError: (rule, err) =>
          log.warn(
            { group: cfg.name, file: cfg.file, rule: rule.name, err: err.message },
            'evaluating rule failed',
          ),
        onAppendError: (err) =>
          log.warn({ group: cfg.name, file: cfg.file, err: err.message }, 'writing rule results failed'),
      },
      restored,
    );
  }

  groups(): Group[] {
    return [...this.groupsByKey.values()].sort((a, b) =>
      a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  alertingRules(): AlertingRule[] {
    return this.groups().flatMap((g) => g.rules.filter((r): r is AlertingRule => r instanceof AlertingRule));
  }

  get ruleFiles(): readonly string[] {
    return this.settings?.patterns ?? [];
  }

  async stop(): Promise<void> {
    for (const g of this.groupsByKey.values()) await g.stop();
  }
}
