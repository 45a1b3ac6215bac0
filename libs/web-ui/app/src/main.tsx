import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { AlertsPage, RulesPage } from './pages/alerts-rules';
import { ConfigPage, FlagsPage, StatusPage, TSDBPage } from './pages/status';
import { ServiceDiscoveryPage, TargetsPage } from './pages/targets';
import { QueryPage } from './query/query-page';
import { navigate, useLocation } from './router';
import { Shell } from './shell';
import './styles.css';

const LINKS: ReadonlyArray<[string, string]> = [
  ['/query', 'Query'],
  ['/alerts', 'Alerts'],
  ['/targets', 'Targets'],
  ['/service-discovery', 'Service discovery'],
  ['/rules', 'Rules'],
  ['/tsdb-status', 'TSDB status'],
  ['/config', 'Configuration'],
  ['/flags', 'Flags'],
  ['/status', 'Runtime & build'],
];

function App() {
  const { path, search } = useLocation();
  // `/` and Prometheus 2's `/graph` (the ruler's generatorURL) open the query page.
  useEffect(() => {
    if (path === '/' || path === '/graph') navigate(`/query${search}`, true);
  }, [path, search]);
  const page = (() => {
    switch (path) {
      case '/alerts':
        return <AlertsPage />;
      case '/targets':
        return <TargetsPage />;
      case '/service-discovery':
        return <ServiceDiscoveryPage />;
      case '/rules':
        return <RulesPage />;
      case '/tsdb-status':
        return <TSDBPage />;
      case '/config':
        return <ConfigPage />;
      case '/flags':
        return <FlagsPage />;
      case '/status':
        return <StatusPage />;
      default:
        return <QueryPage search={search} />;
    }
  })();
  return (
    <Shell brand="Pharos" links={LINKS} path={path}>
      {page}
    </Shell>
  );
}

render(<App />, document.getElementById('root')!);
