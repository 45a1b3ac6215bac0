import { api } from '../api';
import { KeyValueTable, Show } from '../components';
import { useLoad } from '../use-api';

const get =
  <T,>(path: string) =>
  (s: AbortSignal) =>
    api<T>(path, {}, s).then((r) => r.data);

interface TSDBStatus {
  headStats: {
    numSeries: number;
    numLabelPairs: number;
    chunkCount: number;
    minTime: number;
    maxTime: number;
  };
  seriesCountByMetricName: Array<{ name: string; value: number }>;
  labelValueCountByLabelName: Array<{ name: string; value: number }>;
  memoryInBytesByLabelName: Array<{ name: string; value: number }>;
  seriesCountByLabelValuePair: Array<{ name: string; value: number }>;
}

function Top({
  title,
  rows,
  unit,
}: {
  title: string;
  rows: Array<{ name: string; value: number }>;
  unit: string;
}) {
  return (
    <>
      <h2>{title}</h2>
      <table class="data">
        <thead>
          <tr>
            <th>Name</th>
            <th>{unit}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name}>
              <td class="mono">{r.name}</td>
              <td>{r.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function TSDBPage() {
  const [loaded] = useLoad(get<TSDBStatus>('/api/v1/status/tsdb'), []);
  return (
    <div>
      <h1>TSDB status</h1>
      <Show loaded={loaded}>
        {(d) => (
          <>
            <h2>Head</h2>
            <KeyValueTable
              rows={[
                ['Number of series', d.headStats.numSeries],
                ['Number of chunks', d.headStats.chunkCount],
                ['Number of label pairs', d.headStats.numLabelPairs],
                [
                  'Lowest timestamp',
                  d.headStats.minTime > 0 ? new Date(d.headStats.minTime).toISOString() : '',
                ],
                [
                  'Highest timestamp',
                  d.headStats.maxTime > 0 ? new Date(d.headStats.maxTime).toISOString() : '',
                ],
              ]}
            />
            <Top title="Top 10 series count by metric names" rows={d.seriesCountByMetricName} unit="Count" />
            <Top
              title="Top 10 label names with value count"
              rows={d.labelValueCountByLabelName}
              unit="Count"
            />
            <Top
              title="Top 10 label names with high memory usage"
              rows={d.memoryInBytesByLabelName}
              unit="Bytes"
            />
            <Top
              title="Top 10 series count by label value pairs"
              rows={d.seriesCountByLabelValuePair}
              unit="Count"
            />
          </>
        )}
      </Show>
    </div>
  );
}

export function ConfigPage() {
  const [loaded] = useLoad(get<{ yaml: string }>('/api/v1/status/config'), []);
  return (
    <div>
      <h1>Configuration</h1>
      <Show loaded={loaded}>
        {(d) => (
          <>
            <button onClick={() => void navigator.clipboard?.writeText(d.yaml)}>Copy to clipboard</button>
            <pre class="config mono" data-testid="config">
              {d.yaml}
            </pre>
          </>
        )}
      </Show>
    </div>
  );
}

export function FlagsPage() {
  const [loaded] = useLoad(get<Record<string, string>>('/api/v1/status/flags'), []);
  return (
    <div>
      <h1>Command-line flags</h1>
      <Show loaded={loaded}>
        {(d) => <KeyValueTable rows={Object.entries(d).sort((a, b) => a[0].localeCompare(b[0]))} />}
      </Show>
    </div>
  );
}

export function StatusPage() {
  const [runtime] = useLoad(get<Record<string, unknown>>('/api/v1/status/runtimeinfo'), []);
  const [build] = useLoad(get<Record<string, string>>('/api/v1/status/buildinfo'), []);
  return (
    <div>
      <h1>Runtime & build information</h1>
      <h2>Runtime information</h2>
      <Show loaded={runtime}>
        {(d) => <KeyValueTable rows={Object.entries(d).map(([k, v]) => [k, String(v)])} />}
      </Show>
      <h2>Build information</h2>
      <Show loaded={build}>{(d) => <KeyValueTable rows={Object.entries(d)} />}</Show>
    </div>
  );
}
