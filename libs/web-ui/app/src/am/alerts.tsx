import { amApi } from '../api';
import { Labels, Show } from '../components';
import { useLoad } from '../use-api';
import { formatMatcher } from './matchers';

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  fingerprint: string;
  generatorURL: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
  receivers: Array<{ name: string }>;
}

interface AlertGroup {
  labels: Record<string, string>;
  receiver: { name: string };
  alerts: GettableAlert[];
}

export function silenceLinkFor(labels: Record<string, string>): string {
  const filter = `{${Object.entries(labels)
    .map(([name, value]) => formatMatcher({ name, value, isRegex: false, isEqual: true }))
    .join(', ')}}`;
  return `#/silences/new?filter=${encodeURIComponent(filter)}`;
}

export function AlertGroupsPage({ params }: { params: URLSearchParams }) {
  const silenced = params.get('silenced') === 'true';
  const inhibited = params.get('inhibited') === 'true';
  const [loaded] = useLoad(
    () =>
      amApi<AlertGroup[]>('/api/v2/alerts/groups', {
        params: { silenced: String(silenced), inhibited: String(inhibited), active: 'true' },
      }),
    [silenced, inhibited],
    10_000,
  );
  const toggle = (k: string, v: boolean) => {
    const p = new URLSearchParams(params);
    p.set(k, String(v));
    location.hash = `#/alerts?${p.toString()}`;
  };
  return (
    <div>
      <h1>Alerts</h1>
      <div class="row">
        <label>
          <input
            type="checkbox"
            checked={silenced}
            onChange={(e) => toggle('silenced', e.currentTarget.checked)}
          />{' '}
          Silenced
        </label>
        <label>
          <input
            type="checkbox"
            checked={inhibited}
            onChange={(e) => toggle('inhibited', e.currentTarget.checked)}
          />{' '}
          Inhibited
        </label>
      </div>
      <Show loaded={loaded}>
        {(groups) =>
          groups.length === 0 ? (
            <p class="muted">No alert groups found.</p>
          ) : (
            groups.map((g) => (
              <section
                class="panel"
                key={`${g.receiver.name}/${JSON.stringify(g.labels)}`}
                data-testid="alert-group"
              >
                <div class="row">
                  <Labels labels={g.labels} />
                  <span class="muted">receiver: {g.receiver.name}</span>
                  <span class="badge">{g.alerts.length} alerts</span>
                </div>
                {g.alerts.map((a) => (
                  <div key={a.fingerprint} style="margin-top: 8px" data-testid="am-alert">
                    <div class="row">
                      <span class="muted">{new Date(a.startsAt).toISOString()}</span>
                      {a.generatorURL && (
                        <a href={a.generatorURL} target="_blank" rel="noreferrer">
                          Source
                        </a>
                      )}
                      <a href={silenceLinkFor(a.labels)}>Silence</a>
                      {a.status.state !== 'active' && <span class="badge unknown">{a.status.state}</span>}
                    </div>
                    <Labels labels={a.labels} />
                    {Object.entries(a.annotations).map(([k, v]) => (
                      <div key={k} class="muted">
                        <strong>{k}</strong>: {v}
                      </div>
                    ))}
                  </div>
                ))}
              </section>
            ))
          )
        }
      </Show>
    </div>
  );
}
