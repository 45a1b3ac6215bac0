import { RE2JS } from 're2js';

/**
 * A regular expression in RE2 syntax, matched against the whole string as Prometheus does
 * (`^(?s:pattern)$`). RE2 runs in linear time, so user-supplied patterns cannot stall the process.
 */
export class AnchoredRegex {
  private readonly re: RE2JS;
  /** Set when the pattern is a common shape that a string operation decides without the engine. */
  private readonly fast: FastPath | undefined;

  constructor(readonly source: string) {
    try {
      this.re = RE2JS.compile(`^(?:${source})$`, RE2JS.DOTALL);
    } catch (e) {
      throw new Error(`${(e as Error).message}`);
    }
    this.fast = fastPath(source);
  }

  /** Configs holding a regex compare by their JSON (reloads); the pattern is what identifies it. */
  toJSON(): string {
    return this.source;
  }

  matches(s: string): boolean {
    const f = this.fast;
    if (f === undefined) return this.re.matches(s);
    switch (f.kind) {
      case 'set':
        return f.set.has(s);
      case 'prefix':
        return s.startsWith(f.s);
      case 'suffix':
        return s.endsWith(f.s);
      case 'contains':
        return s.includes(f.s);
      case 'any':
        return true;
      case 'nonempty':
        return s.length > 0;
    }
  }

  /**
   * The exact strings this pattern matches when it is a literal or an alternation of literals
   * (`a|b|c`), so an index can look them up instead of testing every value.
   */
  setMatches(): readonly string[] | undefined {
    return this.fast?.kind === 'set' ? [...this.fast.set] : undefined;
  }

  /** Submatches of a full match (index 0 the whole), or null when it does not match. */
  exec(s: string): Array<string | null> | null {
    const m = this.re.matcher(s);
    if (!m.matches()) return null;
    const out: Array<string | null> = [];
    for (let i = 0; i <= m.groupCount(); i++) out.push(m.group(i));
    return out;
  }
}

type FastPath =
  | { kind: 'set'; set: ReadonlySet<string> }
  | { kind: 'prefix' | 'suffix' | 'contains'; s: string }
  | { kind: 'any' | 'nonempty' };

function isLiteral(s: string): boolean {
  return RE2JS.quote(s) === s || /^[A-Za-z0-9_ :/-]*$/.test(s);
}

// Grafana and recording rules produce these shapes constantly (`job=~"a|b"`, `path=~"/api.*"`);
// with DOTALL semantics `.*` is any string, so a string operation gives the same answer as RE2.
function fastPath(source: string): FastPath | undefined {
  if (source === '.*') return { kind: 'any' };
  if (source === '.+') return { kind: 'nonempty' };
  if (isLiteral(source)) return { kind: 'set', set: new Set([source]) };
  const alts = source.split('|');
  if (alts.length > 1 && alts.every(isLiteral)) return { kind: 'set', set: new Set(alts) };
  const starts = source.startsWith('.*');
  const ends = source.endsWith('.*') && !source.endsWith('\\.*');
  const inner = source.slice(starts ? 2 : 0, ends ? source.length - 2 : source.length);
  if ((starts || ends) && inner.length > 0 && isLiteral(inner)) {
    return { kind: starts && ends ? 'contains' : starts ? 'suffix' : 'prefix', s: inner };
  }
  return undefined;
}

const cache = new Map<string, AnchoredRegex>();
const CACHE_LIMIT = 1000;

/** Compiles with a bounded cache: the same matchers recur query after query. */
export function anchoredRegex(source: string): AnchoredRegex {
  let re = cache.get(source);
  if (re === undefined) {
    re = new AnchoredRegex(source);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(source, re);
  }
  return re;
}

/**
 * Expands $1, ${1}, $name and ${name} in a template with a match's groups, as Go's
 * regexp.Expand: `$1x` names the group "1x" (which does not exist, so it expands to ""), `$$` is `$`.
 */
export function expandTemplate(
  template: string,
  groups: ReadonlyArray<string | null>,
  names: ReadonlyMap<string, number> = new Map(),
): string {
  return template.replace(
    /\$(?:\{(\w+)\}|(\w+))|\$\$/g,
    (all, braced: string | undefined, bare: string | undefined) => {
      if (all === '$$') return '$';
      const name = braced ?? bare ?? '';
      if (/^\d+$/.test(name)) return groups[Number(name)] ?? '';
      const idx = names.get(name);
      return idx === undefined ? '' : (groups[idx] ?? '');
    },
  );
}
