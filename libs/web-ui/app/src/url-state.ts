// The query page's state in the URL, in Prometheus' g<N>.<field> form so links from Prometheus
// (and the ruler's generatorURL, `/graph?g0.expr=...&g0.tab=1`) open the same view here.

import { formatDuration, parseDuration as parsePrometheusDuration } from '@pharos/config/duration';

export type Tab = 'table' | 'graph';

export interface PanelState {
  readonly expr: string;
  readonly tab: Tab;
  /** Graph range in milliseconds. */
  readonly range: number;
  /** End of the graph (and time of the table query) in Unix milliseconds; null: now. */
  readonly end: number | null;
  /** Resolution in seconds; null: chosen from the range. */
  readonly step: number | null;
  readonly stacked: boolean;
}

export const DEFAULT_PANEL: PanelState = {
  expr: '',
  tab: 'table',
  range: 3_600_000,
  end: null,
  step: null,
  stacked: false,
};

/** A Prometheus duration (`1h30m`, `90s`, `2w`) in milliseconds; null when it is not a positive one. */
export function parseDuration(s: string): number | null {
  try {
    const ms = parsePrometheusDuration(s.trim());
    return ms > 0 ? ms : null;
  } catch {
    return null;
  }
}

export { formatDuration };

function parseTime(s: string): number | null {
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  // Prometheus writes `2024-01-02 03:04:05`, UTC.
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
  return Number.isFinite(t) ? t : null;
}

export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')
    .replace(/Z$/, '');
}

export function parsePanels(search: string): PanelState[] {
  const q = new URLSearchParams(search);
  const byIndex = new Map<number, Map<string, string>>();
  for (const [k, v] of q) {
    const m = /^g(\d+)\.(.+)$/.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    if (!byIndex.has(i)) byIndex.set(i, new Map());
    byIndex.get(i)!.set(m[2], v);
  }
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, f]) => {
      const tab = f.get('tab');
      const step = f.get('step_input');
      return {
        expr: f.get('expr') ?? '',
        // Prometheus 2 numbered the tabs: 0 graph, 1 table.
        tab: tab === 'graph' || tab === '0' ? 'graph' : 'table',
        range: parseDuration(f.get('range_input') ?? '') ?? DEFAULT_PANEL.range,
        end: parseTime(f.get('end_input') ?? f.get('moment_input') ?? ''),
        step: step && Number(step) > 0 ? Number(step) : null,
        stacked: f.get('display_mode') === 'stacked' || f.get('stacked') === '1',
      };
    });
}

export function panelsToSearch(panels: readonly PanelState[]): string {
  const q = new URLSearchParams();
  panels.forEach((p, i) => {
    q.set(`g${i}.expr`, p.expr);
    q.set(`g${i}.tab`, p.tab);
    q.set(`g${i}.range_input`, formatDuration(p.range));
    if (p.end !== null) q.set(`g${i}.end_input`, formatTime(p.end));
    if (p.step !== null) q.set(`g${i}.step_input`, String(p.step));
    q.set(`g${i}.display_mode`, p.stacked ? 'stacked' : 'lines');
  });
  return `?${q.toString()}`;
}

/** Prometheus' choice of resolution: about 250 points across the range, at least 1 s. */
export function autoStep(rangeMs: number): number {
  return Math.max(Math.floor(rangeMs / 1000 / 250), 1);
}
