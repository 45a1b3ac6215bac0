import { ago, api } from '../api';
import { Labels, Show } from '../components';
import { useLoad } from '../use-api';

interface RuleAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
  value: string;
}

interface Rule {
  name: string;
  query: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError?: string;
  lastEvaluation: string;
  evaluationTime: number;
  state?: 'pending' | 'firing' | 'inactive';
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  alerts?: RuleAlert[];
}

interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
  lastEvaluation: string;
  evaluationTime: number;
}

const rules = (type?: string) => (s: AbortSignal) =>
  api<{ groups: RuleGroup[] }>('/api/v1/rules', type ? { type } : {}, s).then((r) => r.data.groups);

export function AlertsPage() {
  const [loaded] = useLoad(rules('alert'), [], 10_000);
  return (
    <div>
      <h1>Alerts</h1>
      <Show loaded={loaded}>
        {(groups) => {
          const all = groups.flatMap((g) => g.rules.map((r) => ({ group: g, rule: r })));
          if (all.length === 0) return <p class="muted">No alerting rules.</p>;
          const counts = { firing: 0, pending: 0, inactive: 0 };
          for (const { rule } of all) counts[rule.state ?? 'inactive']++;
          return (
            <>
              <p>
                <span class="badge inactive">Inactive ({counts.inactive})</span>
                <span class="badge pending">Pending ({counts.pending})</span>
                <span class="badge firing">Firing ({counts.firing})</span>
              </p>
              {all.map(({ group, rule }) => (
                <details
                  key={`${group.file}/${group.name}/${rule.name}`}
                  class="panel"
                  open={rule.state !== 'inactive'}
                  data-testid="alert-rule"
                >
                  <summary>
                    <span class={`badge ${rule.state ?? 'inactive'}`}>{rule.state}</span>{' '}
                    <strong>{rule.name}</strong>{' '}
                    <span class="muted">
                      ({rule.alerts?.length ?? 0} active) {group.file} &gt; {group.name}
                    </span>
                  </summary>
                  <pre class="config mono">{rule.query}</pre>
                  {(rule.alerts ?? []).length > 0 && (
                    <table class="data">
                      <thead>
                        <tr>
                          <th>Labels</th>
                          <th>State</th>
                          <th>Active since</th>
                          <th>Value</th>
                          <th>Annotations</th>
                        </tr>
                      </thead>
                      <tbody>
                        {rule.alerts!.map((a) => (
                          <tr key={JSON.stringify(a.labels)}>
                            <td>
                              <Labels labels={a.labels} />
                            </td>
                            <td>
                              <span class={`badge ${a.state}`}>{a.state}</span>
                            </td>
                            <td>{a.activeAt ? ago(a.activeAt) : ''}</td>
                            <td class="mono">{a.value}</td>
                            <td>
                              {Object.entries(a.annotations).map(([k, v]) => (
                                <div key={k}>
                                  <strong>{k}</strong>: {v}
                                </div>
                              ))}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </details>
              ))}
            </>
          );
        }}
      </Show>
    </div>
  );
}

export function RulesPage() {
  const [loaded] = useLoad(rules(), [], 10_000);
  return (
    <div>
      <h1>Rules</h1>
      <Show loaded={loaded}>
        {(groups) =>
          groups.length === 0 ? (
            <p class="muted">No rule groups.</p>
          ) : (
            groups.map((g) => (
              <section key={`${g.file}/${g.name}`} class="panel" data-testid="rule-group">
                <h2>
                  {g.name} <span class="muted">{g.file}</span>
                </h2>
                <p class="muted">
                  Interval {g.interval}s · last evaluation {ago(g.lastEvaluation)} · took{' '}
                  {(g.evaluationTime * 1000).toFixed(1)}ms
                </p>
                <table class="data">
                  <thead>
                    <tr>
                      <th>Rule</th>
                      <th>State</th>
                      <th>Error</th>
                      <th>Last evaluation</th>
                      <th>Evaluation time</th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.rules.map((r) => (
                      <tr key={r.name + r.query}>
                        <td class="mono">
                          <div>
                            {r.type === 'alerting' ? 'alert' : 'record'}: <strong>{r.name}</strong>
                          </div>
                          <div>expr: {r.query}</div>
                          {r.labels && Object.keys(r.labels).length > 0 && (
                            <div>
                              labels: <Labels labels={r.labels} />
                            </div>
                          )}
                        </td>
                        <td>
                          <span
                            class={`badge ${r.health === 'ok' ? 'ok' : r.health === 'err' ? 'err' : 'unknown'}`}
                          >
                            {r.health}
                          </span>
                        </td>
                        <td class="mono">{r.lastError ?? ''}</td>
                        <td>{ago(r.lastEvaluation)}</td>
                        <td>{(r.evaluationTime * 1000).toFixed(1)}ms</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            ))
          )
        }
      </Show>
    </div>
  );
}
