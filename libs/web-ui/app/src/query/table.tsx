import { formatSeries, type Metric } from '../api';

interface MatrixRow {
  metric: Metric;
  values?: Array<[number, string]>;
}

export type QueryData =
  | {
      resultType: 'vector';
      result: Array<{ metric: Metric; value?: [number, string]; histogram?: [number, unknown] }>;
    }
  | { resultType: 'matrix'; result: MatrixRow[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

export function ResultTable({ data }: { data: QueryData }) {
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return (
      <table class="data" data-testid="result-table">
        <tbody>
          <tr>
            <td class="mono">{data.resultType}</td>
            <td class="mono">{data.result[1]}</td>
          </tr>
        </tbody>
      </table>
    );
  }
  if (data.result.length === 0) return <p class="muted">Empty query result</p>;
  return (
    <table class="data" data-testid="result-table">
      <thead>
        <tr>
          <th>Series</th>
          <th>{data.resultType === 'vector' ? 'Value' : 'Values'}</th>
        </tr>
      </thead>
      <tbody>
        {data.resultType === 'vector'
          ? data.result.map((s) => (
              <tr key={formatSeries(s.metric)}>
                <td class="mono">{formatSeries(s.metric)}</td>
                <td class="mono">{s.value ? s.value[1] : JSON.stringify(s.histogram?.[1])}</td>
              </tr>
            ))
          : (data.result as MatrixRow[]).map((s) => (
              <tr key={formatSeries(s.metric)}>
                <td class="mono">{formatSeries(s.metric)}</td>
                <td class="mono">
                  {(s.values ?? []).map(([t, v]) => (
                    <div key={t}>
                      {v} @{t}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
      </tbody>
    </table>
  );
}
