import { render } from 'preact';
import { amApi } from '../api';
import { KeyValueTable, Show } from '../components';
import { Shell } from '../shell';
import '../styles.css';
import { useLoad } from '../use-api';
import { AlertGroupsPage } from './alerts';
import { useHashRoute } from './hash-route';
import { SilenceForm, SilencesPage } from './silences';

const LINKS: ReadonlyArray<[string, string]> = [
  ['#/alerts', 'Alerts'],
  ['#/silences', 'Silences'],
  ['#/status', 'Status'],
];

interface AMStatus {
  cluster: { name?: string; status: string; peers?: Array<{ name: string; address: string }> };
  config: { original: string };
  uptime: string;
  versionInfo: Record<string, string>;
}

function StatusPage() {
  const [loaded] = useLoad(() => amApi<AMStatus>('/api/v2/status'), []);
  return (
    <div>
      <h1>Status</h1>
      <Show loaded={loaded}>
        {(s) => (
          <>
            <KeyValueTable
              rows={[
                ['Uptime', s.uptime],
                ['Cluster status', s.cluster.status],
                ['Cluster name', s.cluster.name ?? ''],
                ['Peers', (s.cluster.peers ?? []).map((p) => `${p.name} (${p.address})`).join(', ')],
                ...Object.entries(s.versionInfo).map(([k, v]): [string, string] => [k, v]),
              ]}
            />
            <h2>Config</h2>
            <pre class="config mono">{s.config.original}</pre>
          </>
        )}
      </Show>
    </div>
  );
}

function App() {
  const { path, params } = useHashRoute();
  const edit = /^\/silences\/([^/]+)\/edit$/.exec(path);
  const page =
    path === '/silences' ? (
      <SilencesPage />
    ) : path === '/silences/new' ? (
      <SilenceForm key="new" params={params} />
    ) : edit ? (
      <SilenceForm key={edit[1]} id={edit[1]} params={params} />
    ) : path === '/status' ? (
      <StatusPage />
    ) : (
      <AlertGroupsPage params={params} />
    );
  return (
    <Shell brand="Alertmanager" links={LINKS} path={`#${path}`} hashLinks>
      {page}
    </Shell>
  );
}

render(<App />, document.getElementById('root')!);
