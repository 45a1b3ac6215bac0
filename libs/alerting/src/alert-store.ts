import { makeAlert, mergeAlerts, resolvedAt, type Alert, type AlertInput } from './alert.js';

export type AlertListener = (a: Alert) => void;

/**
 * Every alert Alertmanager knows, by fingerprint (provider/mem). Updates that overlap an alert's
 * active range merge into it; listeners (dispatcher, inhibitor) see each stored version.
 */
export class AlertStore {
  private readonly alerts = new Map<string, Alert>();
  private readonly listeners = new Set<AlertListener>();

  get size(): number {
    return this.alerts.size;
  }

  put(inputs: readonly AlertInput[]): Alert[] {
    const out: Alert[] = [];
    for (const input of inputs) {
      let a = makeAlert(input);
      const old = this.alerts.get(a.fingerprint);
      if (
        old &&
        ((a.endsAt > old.startsAt && a.endsAt < old.endsAt) ||
          (a.startsAt > old.startsAt && a.startsAt < old.endsAt))
      ) {
        a = mergeAlerts(old, a);
      }
      this.alerts.set(a.fingerprint, a);
      out.push(a);
      for (const l of this.listeners) l(a);
    }
    return out;
  }

  get(fp: string): Alert | undefined {
    return this.alerts.get(fp);
  }

  list(): Alert[] {
    return [...this.alerts.values()];
  }

  /** Listens to every put; `replay` hands over what is already stored first. */
  subscribe(fn: AlertListener, replay = true): () => void {
    if (replay) for (const a of this.alerts.values()) fn(a);
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Drops resolved alerts (the dispatcher has had its chance to notify); returns their fingerprints. */
  gc(now: number): string[] {
    const gone: string[] = [];
    for (const [fp, a] of this.alerts) {
      if (resolvedAt(a, now)) {
        this.alerts.delete(fp);
        gone.push(fp);
      }
    }
    return gone;
  }
}
