/**
 * Go's filepath.Match for one path component: `*`, `?` and `[...]` classes (with `^`/`!` negation
 * and ranges). Patterns come from the config file; the matcher is linear in practice and needs no
 * regular expression engine.
 */
export function matchComponent(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starN = n;
      continue;
    }
    if (p < pattern.length) {
      const step = matchOne(pattern, p, name[n]);
      if (step > 0) {
        p += step;
        n++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP + 1;
    n = ++starN;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Length of the pattern element at p when it matches c, else 0. */
function matchOne(pattern: string, p: number, c: string): number {
  const ch = pattern[p];
  if (ch === '?') return 1;
  if (ch === '\\' && p + 1 < pattern.length) return pattern[p + 1] === c ? 2 : 0;
  if (ch !== '[') return ch === c ? 1 : 0;
  let i = p + 1;
  const negate = pattern[i] === '^' || pattern[i] === '!';
  if (negate) i++;
  let matched = false;
  let first = true;
  while (i < pattern.length && (first || pattern[i] !== ']')) {
    first = false;
    const lo = pattern[i];
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      if (lo <= c && c <= pattern[i + 2]) matched = true;
      i += 3;
    } else {
      if (lo === c) matched = true;
      i++;
    }
  }
  if (i >= pattern.length) return 0;
  return matched !== negate ? i + 1 - p : 0;
}
