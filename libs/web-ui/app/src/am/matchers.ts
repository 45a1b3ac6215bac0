export interface FormMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** `{a="b", c=~"d.*"}`, Alertmanager's filter syntax, into matchers (classic syntax only). */
export function parseFilter(filter: string): FormMatcher[] {
  const body = filter.trim().replace(/^\{/, '').replace(/\}$/, '');
  const out: FormMatcher[] = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    out.push({
      name: m[1],
      value: JSON.parse(`"${m[3]}"`) as string,
      isRegex: m[2].includes('~'),
      isEqual: !m[2].startsWith('!'),
    });
  }
  return out;
}

export function formatMatcher(m: FormMatcher): string {
  const op = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}
