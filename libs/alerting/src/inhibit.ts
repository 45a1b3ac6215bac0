import { resolvedAt, type Alert } from './alert.js';
import type { AlertStore } from './alert-store.js';
import type { InhibitRule } from './config.js';
import type { LabelSet } from './labelset.js';
import { matchesAll } from './matchers.js';

interface RuleState {
  readonly rule: InhibitRule;
  /** Alerts matching the rule's source side, by fingerprint. */
  readonly sources: Map<string, Alert>;
}

/** inhibit.Inhibitor: a target alert is muted while a firing source alert shares the `equal` labels. */
export class Inhibitor {
  private readonly rules: RuleState[];
  private readonly unsubscribe: () => void;

  constructor(
    rules: readonly InhibitRule[],
    store: AlertStore,
    private readonly now: () => number,
  ) {
    this.rules = rules.map((rule) => ({ rule, sources: new Map() }));
    this.unsubscribe = store.subscribe((a) => {
      for (const r of this.rules)
        if (matchesAll(r.rule.sourceMatchers, a.labels)) r.sources.set(a.fingerprint, a);
    });
  }

  /** The fingerprint of an alert that inhibits `ls`, if any. */
  inhibitedBy(ls: LabelSet): string | undefined {
    const now = this.now();
    for (const { rule, sources } of this.rules) {
      if (!matchesAll(rule.targetMatchers, ls)) continue;
      // An alert on both sides of a rule must not inhibit itself or its twins.
      const twoSided = matchesAll(rule.sourceMatchers, ls);
      for (const [fp, src] of sources) {
        if (resolvedAt(src, now)) continue;
        if (twoSided && matchesAll(rule.targetMatchers, src.labels)) continue;
        if (rule.equal.every((n) => (src.labels[n] ?? '') === (ls[n] ?? ''))) return fp;
      }
    }
    return undefined;
  }

  /** Forgets source alerts the store dropped. */
  forget(fps: readonly string[]): void {
    for (const r of this.rules) for (const fp of fps) r.sources.delete(fp);
  }

  stop(): void {
    this.unsubscribe();
  }
}
