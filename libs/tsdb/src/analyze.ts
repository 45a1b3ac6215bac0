import type { StorageAnalysis } from './db.js';

function formatSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['h', 3600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('') || '0s';
}

function top<T>(rows: T[], score: (r: T) => number, limit: number): T[] {
  return rows.sort((a, b) => score(b) - score(a)).slice(0, limit);
}

/** The report of `pharos tsdb analyze`, in the shape of `promtool tsdb analyze`. */
export function formatAnalysis(a: StorageAnalysis, where: string, limit = 20): string {
  const out: string[] = [];
  const names = new Map<string, number>();
  let entries = 0;
  for (const [name, , n] of a.pairs) {
    names.set(name, (names.get(name) ?? 0) + 1);
    entries += n;
  }
  const perSample = (bytes: number) => (a.samples > 0 ? (bytes / a.samples).toFixed(2) : 'n/a');
  out.push(`Storage: ${where}`);
  if (a.series > 0) {
    out.push(`Time range: ${new Date(a.minTime).toISOString()} to ${new Date(a.maxTime).toISOString()}`);
    out.push(`Duration: ${formatSpan(a.maxTime - a.minTime)}`);
  }
  out.push(`Total Series: ${a.series}`);
  out.push(`Samples: ${a.samples}`);
  out.push(`Chunks: ${a.chunks} stored, ${a.headChunks} open in the head`);
  out.push(`Bytes on disk: ${a.diskBytes} (${perSample(a.diskBytes)} per sample)`);
  out.push(`Bytes of chunk data: ${a.chunkBytes} (${perSample(a.chunkBytes)} per sample)`);
  out.push(`Label names: ${names.size}`);
  out.push(`Postings (unique label pairs): ${a.pairs.length}`);
  out.push(`Postings entries (total label pairs): ${entries}`);
  out.push('', 'Most common label pairs:');
  for (const [name, value, n] of top([...a.pairs], (p) => p[2], limit)) out.push(`${n} ${name}=${value}`);
  out.push('', 'Highest cardinality labels:');
  for (const [name, n] of top([...names], (p) => p[1], limit)) out.push(`${n} ${name}`);
  out.push('', 'Highest cardinality metric names:');
  const metrics = a.pairs.filter((p) => p[0] === '__name__');
  for (const [, value, n] of top(metrics, (p) => p[2], limit)) out.push(`${n} ${value}`);
  return out.join('\n') + '\n';
}
