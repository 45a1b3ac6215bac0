import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 1);
      if (end < 0) throw new Error(`syntax error in pattern ${JSON.stringify(part)}`);
      re += `[${part
        .slice(i + 1, end)
        .replace(/^\^/, '!')
        .replace(/^!/, '^')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < part.length) re += `\\${part[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** filepath.Glob: wildcards in any path component, no `**`, sorted matches; no match is no file. */
export function globFiles(pattern: string): string[] {
  const abs = resolve(pattern);
  const parts = abs.split('/').filter((p) => p !== '');
  let paths = ['/'];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?[]/.test(part)) {
        const p = join(dir, part);
        try {
          const st = statSync(p);
          if (last || st.isDirectory()) next.push(p);
        } catch {
          // No such path: the pattern matches nothing here.
        }
        continue;
      }
      const re = globToRegExp(part);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(join(dir, n));
    }
    paths = next;
  }
  return paths;
}
