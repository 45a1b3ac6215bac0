import { RE2JS } from 're2js';

/**
 * A regular expression in RE2 syntax, matched against the whole string as Prometheus does
 * (`^(?s:pattern)$`). RE2 runs in linear time, so user-supplied patterns cannot stall the process.
 */
export class AnchoredRegex {
  private readonly re: RE2JS;
  /** Set when the pattern is a plain string, so matching is a comparison. */
  private readonly literal: string | undefined;

  constructor(readonly source: string) {
    try {
      this.re = RE2JS.compile(`^(?:${source})$`, RE2JS.DOTALL);
    } catch (e) {
      throw new Error(`${(e as Error).message}`);
    }
    this.literal = RE2JS.quote(source) === source || /^[A-Za-z0-9_ :/-]*$/.test(source) ? source : undefined;
  }

  matches(s: string): boolean {
    if (this.literal !== undefined) return s === this.literal;
    return this.re.matches(s);
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
