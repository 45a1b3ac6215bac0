import { fingerprint, labelSetBefore, type LabelSet } from './labelset.js';

/** An alert as Alertmanager holds it (types.Alert); times in ms, 0 for Go's zero time. */
export interface Alert {
  readonly labels: LabelSet;
  readonly annotations: LabelSet;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly generatorURL: string;
  readonly updatedAt: number;
  /** The end time was not given but set from resolve_timeout. */
  readonly timeout: boolean;
  readonly fingerprint: string;
}

export type AlertInput = Omit<Alert, 'fingerprint'>;

export function makeAlert(a: AlertInput): Alert {
  return { ...a, fingerprint: fingerprint(a.labels) };
}

export function resolvedAt(a: Alert, now: number): boolean {
  return a.endsAt !== 0 && a.endsAt <= now;
}

/** types.Alert.Merge: the younger update wins, keeping the earliest start. */
export function mergeAlerts(a: Alert, o: Alert): Alert {
  if (o.updatedAt < a.updatedAt) return mergeAlerts(o, a);
  let startsAt = o.startsAt;
  let endsAt = o.endsAt;
  if (a.startsAt < o.startsAt) startsAt = a.startsAt;
  const oResolved = o.endsAt !== 0 && o.endsAt <= o.updatedAt;
  const aResolved = a.endsAt !== 0 && a.endsAt <= o.updatedAt;
  if (oResolved) {
    if (aResolved && a.endsAt > o.endsAt) endsAt = a.endsAt;
  } else if (a.endsAt > o.endsAt && !a.timeout) {
    endsAt = a.endsAt;
  }
  return { ...o, startsAt, endsAt };
}

const ORDER_KEYS = ['job', 'instance'];

/** types.AlertSlice order: by job, then instance, then the label sets. */
export function compareAlerts(x: Alert, y: Alert): number {
  for (const k of ORDER_KEYS) {
    const a = x.labels[k];
    const b = y.labels[k];
    if (a === undefined && b === undefined) continue;
    if (a === undefined) return 1;
    if (b === undefined) return -1;
    if (a !== b) return a < b ? -1 : 1;
  }
  if (labelSetBefore(x.labels, y.labels)) return -1;
  return labelSetBefore(y.labels, x.labels) ? 1 : 0;
}

/** types.Alert.Validate with the label checks of model.LabelSet.Validate. */
export function validateAlert(a: AlertInput): string | null {
  if (a.startsAt === 0) return 'start time missing';
  if (a.endsAt !== 0 && a.endsAt < a.startsAt) return 'start time must be before end time';
  const names = Object.keys(a.labels);
  if (names.length === 0) return 'at least one label pair required';
  for (const n of names) if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) return `invalid name "${n}"`;
  for (const n of Object.keys(a.annotations))
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) return `invalid name "${n}"`;
  return null;
}
