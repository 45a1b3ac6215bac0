const KEY = 'pharos.queryHistory';
const MAX = 50;

export function loadHistory(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function remember(expr: string): string[] {
  const next = [expr, ...loadHistory().filter((e) => e !== expr)].slice(0, MAX);
  localStorage.setItem(KEY, JSON.stringify(next));
  return next;
}
