import type { LabelMatcher, Labels } from '@pharos/model';

/** Sorted series refs per label pair; refs are handed out in increasing order, so appends keep order. */
export class MemPostings {
  private readonly byName = new Map<string, Map<string, number[]>>();
  private all: number[] = [];

  add(ref: number, labels: Labels): void {
    this.all.push(ref);
    for (const l of labels) this.addPosting(l.name, l.value, ref);
  }

  private addPosting(name: string, value: string, ref: number): void {
    let values = this.byName.get(name);
    if (!values) this.byName.set(name, (values = new Map()));
    let list = values.get(value);
    if (!list) values.set(value, (list = []));
    list.push(ref);
  }

  /** Drops deleted series; rare (retention), so it rebuilds the lists it touches. */
  remove(refs: ReadonlySet<number>, labelsOf: (ref: number) => Labels): void {
    const touched = new Map<string, Set<string>>();
    for (const ref of refs) {
      for (const l of labelsOf(ref)) {
        let vs = touched.get(l.name);
        if (!vs) touched.set(l.name, (vs = new Set()));
        vs.add(l.value);
      }
    }
    for (const [name, vs] of touched) {
      const values = this.byName.get(name);
      if (!values) continue;
      for (const v of vs) {
        const list = values.get(v);
        if (!list) continue;
        const kept = list.filter((r) => !refs.has(r));
        if (kept.length > 0) values.set(v, kept);
        else values.delete(v);
      }
      if (values.size === 0) this.byName.delete(name);
    }
    this.all = this.all.filter((r) => !refs.has(r));
  }

  /** Series per label name and per pair, for `tsdb analyze` and the TSDB status page. */
  *pairs(): IterableIterator<[string, string, number]> {
    for (const [name, values] of this.byName) for (const [v, l] of values) yield [name, v, l.length];
  }

  labelNames(): string[] {
    return [...this.byName.keys()];
  }

  labelValues(name: string): string[] {
    return [...(this.byName.get(name)?.keys() ?? [])];
  }

  /**
   * Refs of series selected by all matchers, Prometheus' way: a matcher that does not match the
   * empty string intersects the postings of the values it matches; one that does match it selects
   * series without the label too, so the postings of the values it rejects are subtracted instead.
   */
  select(matchers: readonly LabelMatcher[]): number[] {
    let result: number[] | null = null;
    const subtract: number[][] = [];
    for (const m of matchers) {
      const values = this.byName.get(m.name);
      if (!m.matchesEmpty()) {
        const lists: number[][] = [];
        if (values) {
          const set = m.setMatches();
          if (set !== undefined) {
            for (const v of set) {
              const l = values.get(v);
              if (l) lists.push(l);
            }
          } else for (const [v, l] of values) if (m.matches(v)) lists.push(l);
        }
        const union = mergeMany(lists);
        result = result === null ? union : intersect(result, union);
        if (result.length === 0) return result;
      } else if (values) {
        const lists: number[][] = [];
        for (const [v, l] of values) if (!m.matches(v)) lists.push(l);
        if (lists.length > 0) subtract.push(mergeMany(lists));
      }
    }
    let out = result ?? this.all;
    for (const s of subtract) out = difference(out, s);
    return out === this.all ? out.slice() : out;
  }
}

export function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]);
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return out;
}

export function difference(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j] < x) j++;
    if (j >= b.length || b[j] !== x) out.push(x);
  }
  return out;
}

function merge2(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else if (i >= a.length || b[j] < a[i]) out.push(b[j++]);
    else {
      out.push(a[i]);
      i++;
      j++;
    }
  }
  return out;
}

function mergeMany(lists: number[][]): number[] {
  if (lists.length === 0) return [];
  while (lists.length > 1) {
    const next: number[][] = [];
    for (let i = 0; i < lists.length; i += 2)
      next.push(i + 1 < lists.length ? merge2(lists[i], lists[i + 1]) : lists[i]);
    lists = next;
  }
  return lists[0];
}
