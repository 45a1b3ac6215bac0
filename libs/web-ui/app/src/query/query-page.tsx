import { useState } from 'preact/hooks';
import { navigate } from '../router';
import { DEFAULT_PANEL, panelsToSearch, parsePanels, type PanelState } from '../url-state';
import { loadHistory, remember } from './history';
import { Panel } from './panel';

export function QueryPage({ search }: { search: string }) {
  const parsed = parsePanels(search);
  const panels = parsed.length > 0 ? parsed : [DEFAULT_PANEL];
  const [history, setHistory] = useState(loadHistory);
  // The URL is the state: every change is written there, so a link reproduces the view.
  const update = (next: PanelState[]) => navigate(`/query${panelsToSearch(next)}`, true);
  return (
    <div>
      {panels.map((p, i) => (
        <Panel
          key={i}
          index={i}
          state={p}
          history={history}
          onExecuted={(e) => setHistory(remember(e))}
          onChange={(s) => update(panels.map((x, k) => (k === i ? s : x)))}
          onRemove={panels.length > 1 ? () => update(panels.filter((_, k) => k !== i)) : undefined}
        />
      ))}
      <button onClick={() => update([...panels, DEFAULT_PANEL])}>Add panel</button>
    </div>
  );
}
