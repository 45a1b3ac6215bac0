import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { formatSeries, type Metric } from '../api';
import { alignSeries } from './align';

export interface MatrixSeries {
  readonly metric: Metric;
  readonly values: ReadonlyArray<[number, string]>;
}

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

interface Props {
  readonly result: readonly MatrixSeries[];
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly stacked: boolean;
}

export function Graph({ result, start, end, step, stacked }: Props) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const { xs, ys } = alignSeries(result, start, end, step, stacked);
    const width = () => Math.max(200, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 320,
        series: [
          {},
          ...result.map((s, i) => ({
            label: formatSeries(s.metric),
            stroke: COLORS[i % COLORS.length],
            fill: stacked ? `${COLORS[i % COLORS.length]}55` : undefined,
            width: 1.5,
            spanGaps: false,
          })),
        ],
        axes: [
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } },
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, size: 70 },
        ],
        legend: { live: true },
      },
      [xs, ...ys],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 320 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [result, start, end, step, stacked]);
  const points = result.reduce((n, s) => n + s.values.length, 0);
  return (
    <div class="chart" ref={host} data-testid="graph" data-series={result.length} data-points={points} />
  );
}
