import { useState } from 'preact/hooks';
import { ago, api } from '../api';
import { Labels, Show } from '../components';
import { useLoad } from '../use-api';

interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
}

interface TargetsData {
  activeTargets: ActiveTarget[];
  droppedTargets: Array<{ discoveredLabels: Record<string, string>; scrapePool?: string }>;
}

export function TargetsPage() {
  const [filter, setFilter] = useState('');
  const [unhealthy, setUnhealthy] = useState(false);
  const [loaded] = useLoad(
    (s) => api<TargetsData>('/api/v1/targets', { state: 'active' }, s).then((r) => r.data),
    [],
    10_000,
  );
  return (
    <div>
      <h1>Targets</h1>
      <div class="row">
        <input
          class="grow"
          placeholder="Filter by endpoint or labels"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
          aria-label="Filter targets"
        />
        <label>
          <input
            type="checkbox"
            checked={unhealthy}
            onChange={(e) => setUnhealthy(e.currentTarget.checked)}
          />{' '}
          Unhealthy only
        </label>
      </div>
      <Show loaded={loaded}>
        {(data) => {
          const pools = new Map<string, ActiveTarget[]>();
          for (const t of data.activeTargets) {
            const text = `${t.scrapeUrl} ${Object.entries(t.labels)
              .map(([k, v]) => `${k}="${v}"`)
              .join(' ')}`;
            if (filter !== '' && !text.toLowerCase().includes(filter.toLowerCase())) continue;
            if (unhealthy && t.health === 'up') continue;
            if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
            pools.get(t.scrapePool)!.push(t);
          }
          if (pools.size === 0) return <p class="muted">No targets.</p>;
          return [...pools.entries()].map(([pool, targets]) => (
            <section key={pool} data-testid={`pool-${pool}`}>
              <h2>
                {pool} ({targets.filter((t) => t.health === 'up').length}/{targets.length} up)
              </h2>
              <table class="data">
                <thead>
                  <tr>
                    <th>Endpoint</th>
                    <th>State</th>
                    <th>Labels</th>
                    <th>Last scrape</th>
                    <th>Duration</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {targets.map((t) => (
                    <tr key={t.scrapeUrl + JSON.stringify(t.labels)} data-testid="target-row">
                      <td class="mono">
                        <a href={t.scrapeUrl}>{t.scrapeUrl}</a>
                      </td>
                      <td>
                        <span class={`badge ${t.health}`}>{t.health.toUpperCase()}</span>
                      </td>
                      <td>
                        <Labels labels={t.labels} />
                      </td>
                      <td>{ago(t.lastScrape)}</td>
                      <td>{(t.lastScrapeDuration * 1000).toFixed(1)}ms</td>
                      <td class="mono">{t.lastError}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ));
        }}
      </Show>
    </div>
  );
}

export function ServiceDiscoveryPage() {
  const [loaded] = useLoad(
    (s) => api<TargetsData>('/api/v1/targets', { state: 'any' }, s).then((r) => r.data),
    [],
  );
  return (
    <div>
      <h1>Service discovery</h1>
      <Show loaded={loaded}>
        {(data) => {
          const pools = new Set([
            ...data.activeTargets.map((t) => t.scrapePool),
            ...data.droppedTargets.map((t) => t.scrapePool ?? t.discoveredLabels.job ?? ''),
          ]);
          return [...pools].map((pool) => {
            const active = data.activeTargets.filter((t) => t.scrapePool === pool);
            const dropped = data.droppedTargets.filter(
              (t) => (t.scrapePool ?? t.discoveredLabels.job) === pool,
            );
            return (
              <section key={pool}>
                <h2>
                  {pool} ({active.length} / {active.length + dropped.length} active targets)
                </h2>
                <table class="data">
                  <thead>
                    <tr>
                      <th>Discovered labels</th>
                      <th>Target labels</th>
                    </tr>
                  </thead>
                  <tbody>
                    {active.map((t) => (
                      <tr key={JSON.stringify(t.discoveredLabels)}>
                        <td>
                          <Labels labels={t.discoveredLabels} />
                        </td>
                        <td>
                          <Labels labels={t.labels} />
                        </td>
                      </tr>
                    ))}
                    {dropped.map((t) => (
                      <tr key={JSON.stringify(t.discoveredLabels)}>
                        <td>
                          <Labels labels={t.discoveredLabels} />
                        </td>
                        <td class="muted">Dropped</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            );
          });
        }}
      </Show>
    </div>
  );
}
