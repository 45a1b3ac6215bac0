export const METRIC_NAME = '__name__';

export interface Label {
  readonly name: string;
  readonly value: string;
}

/** A label set: sorted by name, names unique, no empty values (an empty value means "absent"). */
export type Labels = readonly Label[];

export const EMPTY_LABELS: Labels = Object.freeze([]);

function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Builds a canonical label set: sorted, empty values dropped, a duplicated name is an error. */
export function labelsFrom(pairs: Iterable<Label> | Record<string, string>): Labels {
  const out: Label[] = [];
  const iter: Iterable<Label> =
    Symbol.iterator in pairs
      ? (pairs as Iterable<Label>)
      : Object.entries(pairs).map(([name, value]) => ({ name, value }));
  for (const l of iter) if (l.value !== '') out.push({ name: l.name, value: l.value });
  out.sort(byName);
  for (let i = 1; i < out.length; i++) {
    if (out[i].name === out[i - 1].name) throw new Error(`duplicate label name "${out[i].name}"`);
  }
  return out;
}

export function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

export function metricName(labels: Labels): string {
  return getLabel(labels, METRIC_NAME);
}

export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i].name !== b[i].name) return a[i].name < b[i].name ? -1 : 1;
    if (a[i].value !== b[i].value) return a[i].value < b[i].value ? -1 : 1;
  }
  return a.length - b.length;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].name !== b[i].name || a[i].value !== b[i].value) return false;
  }
  return true;
}

/**
 * A string that identifies a label set exactly. Each name and value is length-prefixed, so no
 * value (label values may hold any character, NUL included) can make two sets collide.
 */
export function labelsKey(labels: Labels): string {
  let s = '';
  for (const l of labels) s += `${l.name.length}:${l.name}${l.value.length}:${l.value}`;
  return s;
}

export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** Formats as Prometheus prints series: name{a="x", b="y"}, quoting names that need it. */
export function formatLabels(labels: Labels): string {
  const name = metricName(labels);
  const parts: string[] = [];
  for (const l of labels) {
    if (l.name === METRIC_NAME) continue;
    const n = isLegacyLabelName(l.name) ? l.name : JSON.stringify(l.name);
    parts.push(`${n}=${JSON.stringify(l.value)}`);
  }
  if (name !== '' && !isLegacyMetricName(name)) {
    parts.unshift(JSON.stringify(name));
    return `{${parts.join(', ')}}`;
  }
  return parts.length === 0 && name !== '' ? name : `${name}{${parts.join(', ')}}`;
}

/** Mutable view used while relabeling or evaluating; `labels()` gives back a canonical set. */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(base: Labels = EMPTY_LABELS) {
    for (const l of base) this.map.set(l.name, l.value);
  }

  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  del(...names: string[]): this {
    for (const n of names) this.map.delete(n);
    return this;
  }

  keep(names: ReadonlySet<string>): this {
    for (const n of [...this.map.keys()]) if (!names.has(n)) this.map.delete(n);
    return this;
  }

  labels(): Labels {
    const out: Label[] = [];
    for (const [name, value] of this.map) out.push({ name, value });
    return out.sort(byName);
  }
}

export function isLegacyLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (i > 0 && c >= 48 && c <= 57);
    if (!ok) return false;
  }
  return true;
}

export function isLegacyMetricName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (i > 0 && c >= 48 && c <= 57);
    if (!ok) return false;
  }
  return true;
}

/**
 * Prometheus 3 accepts any non-empty UTF-8 label name by default (`metric_name_validation_scheme:
 * utf8`); `legacy` restores the old character set.
 */
export type NameValidationScheme = 'utf8' | 'legacy';

export function isValidLabelName(name: string, scheme: NameValidationScheme = 'utf8'): boolean {
  if (scheme === 'legacy') return isLegacyLabelName(name);
  return name.length > 0 && isWellFormed(name);
}

export function isValidMetricName(name: string, scheme: NameValidationScheme = 'utf8'): boolean {
  if (scheme === 'legacy') return isLegacyMetricName(name);
  return name.length > 0 && isWellFormed(name);
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** Checks a label set as the write path must: valid names, a metric name, no reserved misuse. */
export function validateSeriesLabels(labels: Labels, scheme: NameValidationScheme = 'utf8'): string | null {
  const name = metricName(labels);
  if (name === '') return 'series has no metric name';
  if (!isValidMetricName(name, scheme)) return `invalid metric name ${JSON.stringify(name)}`;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!isValidLabelName(l.name, scheme)) return `invalid label name ${JSON.stringify(l.name)}`;
    if (!isWellFormed(l.value)) return `invalid label value for ${JSON.stringify(l.name)}: not UTF-8`;
    if (i > 0 && labels[i - 1].name >= l.name) return 'labels are not sorted or not unique';
  }
  return null;
}
