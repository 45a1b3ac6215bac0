const UNITS: Array<[string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/**
 * Parses a Prometheus duration ("1h30m", "15s", "500ms", "0") into milliseconds. Units must come
 * largest first, each at most once, as in Prometheus' model.ParseDuration.
 */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new Error('empty duration string');
  let i = 0;
  let total = 0;
  let lastUnit = -1;
  while (i < s.length) {
    let j = i;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === i) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
    const n = Number(s.slice(i, j));
    let k = j;
    while (k < s.length && !(s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57)) k++;
    const unit = s.slice(j, k);
    const idx = UNITS.findIndex(([u]) => u === unit);
    if (idx < 0 || idx <= lastUnit) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
    lastUnit = idx;
    total += n * UNITS[idx][1];
    i = k;
  }
  if (!Number.isSafeInteger(total)) throw new Error(`duration out of range: ${JSON.stringify(s)}`);
  return total;
}

/** Formats milliseconds as Prometheus prints durations: "1h30m", "15s", "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  for (const [u, size] of UNITS) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}

const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  PB: 1024 ** 5,
  EB: 1024 ** 6,
};

/**
 * Parses a size as Prometheus' units.Base2Bytes flags do ("512MB", "1GB", "0"): a whole number
 * and a unit, powers of 1024.
 */
export function parseByteSize(s: string): number {
  if (s === '0') return 0;
  const m = /^(\d+)(B|KB|MB|GB|TB|PB|EB)$/.exec(s);
  if (!m)
    throw new Error(
      `not a valid size ${JSON.stringify(s)}: want a number and one of B, KB, MB, GB, TB, PB, EB`,
    );
  return Number(m[1]) * BYTE_UNITS[m[2]];
}
