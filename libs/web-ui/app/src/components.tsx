import type { ComponentChildren } from 'preact';
import type { Loaded } from './use-api';

export function Labels({ labels }: { labels: Record<string, string> }) {
  return (
    <>
      {Object.entries(labels).map(([k, v]) => (
        <span class="label" key={k}>
          {k}="{v}"
        </span>
      ))}
    </>
  );
}

export function Show<T>({
  loaded,
  children,
}: {
  loaded: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) {
  if (loaded.state === 'loading') return <p class="muted">Loading…</p>;
  if (loaded.state === 'error')
    return (
      <div class="error" role="alert">
        {loaded.message}
      </div>
    );
  return <>{children(loaded.data)}</>;
}

export function KeyValueTable({ rows }: { rows: ReadonlyArray<[string, ComponentChildren]> }) {
  return (
    <table class="data">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th style="width: 35%">{k}</th>
            <td class="mono">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
