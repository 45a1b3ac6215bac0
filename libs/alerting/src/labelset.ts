import { goQuote } from '@pharos/template';

/** Alertmanager's label set: a plain map, as model.LabelSet is. */
export type LabelSet = Readonly<Record<string, string>>;

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const MASK64 = (1n << 64n) - 1n;
const SEP = 0xff;
const utf8 = new TextEncoder();

function fnvAdd(h: bigint, bytes: Uint8Array): bigint {
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
  return h;
}

/**
 * model.LabelSet.Fingerprint: FNV-1a over sorted names and values, each followed by 0xff. Alert
 * fingerprints are part of the API and of webhook payloads, so they must equal Alertmanager's.
 */
export function fingerprint(ls: LabelSet): string {
  let h = FNV_OFFSET;
  const sep = Uint8Array.of(SEP);
  for (const name of Object.keys(ls).sort()) {
    h = fnvAdd(fnvAdd(h, utf8.encode(name)), sep);
    h = fnvAdd(fnvAdd(h, utf8.encode(ls[name])), sep);
  }
  return h.toString(16).padStart(16, '0');
}

/** model.LabelSet.String(): `{a="1", b="2"}`, names sorted. */
export function labelSetString(ls: LabelSet): string {
  return `{${Object.keys(ls)
    .sort()
    .map((n) => `${n}=${goQuote(ls[n])}`)
    .join(', ')}}`;
}

/** model.LabelSet.Before: shorter sets first, then by the sorted union of names. */
export function labelSetBefore(a: LabelSet, b: LabelSet): boolean {
  const na = Object.keys(a).length;
  const nb = Object.keys(b).length;
  if (na !== nb) return na < nb;
  for (const n of [...Object.keys(a), ...Object.keys(b)].sort()) {
    const x = a[n];
    if (x === undefined) return true;
    const y = b[n];
    if (y === undefined) return false;
    if (x < y) return true;
    if (x > y) return false;
  }
  return false;
}

/** The labels of `ls` named in `names` (group_by). */
export function pick(ls: LabelSet, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) if (ls[n] !== undefined) out[n] = ls[n];
  return out;
}

/** Alertmanager's valid label name: the legacy charset (UTF-8 names need its utf8 flag). */
export function validLabelName(n: string): boolean {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n);
}
