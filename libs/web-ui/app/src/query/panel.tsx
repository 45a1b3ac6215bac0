import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { autoStep, formatDuration, formatTime, parseDuration, type PanelState, type Tab } from '../url-state';
import { ExpressionEditor, type EditorHandlers } from './editor';
import { Graph, type MatrixSeries } from './graph';
import { ResultTable, type QueryData } from './table';

interface Props {
  readonly index: number;
  readonly state: PanelState;
  readonly onChange: (s: PanelState) => void;
  readonly onRemove?: () => void;
  readonly onExecuted: (expr: string) => void;
  readonly history: readonly string[];
}

type Outcome =
  | { kind: 'none' }
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | {
      kind: 'table';
      data: QueryData;
      warnings: readonly string[];
      infos: readonly string[];
      ms: number;
    }
  | {
      kind: 'graph';
      result: MatrixSeries[];
      start: number;
      end: number;
      step: number;
      warnings: readonly string[];
      infos: readonly string[];
      ms: number;
    };

export function Panel({ index, state, onChange, onRemove, onExecuted, history }: Props) {
  const [draft, setDraft] = useState(state.expr);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'none' });
  const [rangeText, setRangeText] = useState(formatDuration(state.range));
  const [endText, setEndText] = useState(state.end === null ? '' : formatTime(state.end));
  const [nonce, setNonce] = useState(0);

  const setEditor = useRef<((v: string) => void) | null>(null);
  const showDraft = (v: string) => {
    setDraft(v);
    setEditor.current?.(v);
  };
  useEffect(() => showDraft(state.expr), [state.expr]);

  useEffect(() => {
    if (state.expr.trim() === '') {
      setOutcome({ kind: 'none' });
      return;
    }
    const ctl = new AbortController();
    setOutcome({ kind: 'loading' });
    const begun = performance.now();
    const end = (state.end ?? Date.now()) / 1000;
    const run = async (): Promise<Outcome> => {
      if (state.tab === 'table') {
        const r = await api<QueryData>('/api/v1/query', { query: state.expr, time: String(end) }, ctl.signal);
        return {
          kind: 'table',
          data: r.data,
          warnings: r.warnings,
          infos: r.infos,
          ms: performance.now() - begun,
        };
      }
      const step = state.step ?? autoStep(state.range);
      const start = end - state.range / 1000;
      const r = await api<QueryData>(
        '/api/v1/query_range',
        { query: state.expr, start: String(start), end: String(end), step: String(step) },
        ctl.signal,
      );
      if (r.data.resultType !== 'matrix') throw new ApiError(`a range query answered ${r.data.resultType}`);
      return {
        kind: 'graph',
        result: r.data.result.map((s) => ({ metric: s.metric, values: s.values ?? [] })),
        start,
        end,
        step,
        warnings: r.warnings,
        infos: r.infos,
        ms: performance.now() - begun,
      };
    };
    run().then(setOutcome, (e: unknown) => {
      if (!ctl.signal.aborted)
        setOutcome({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
    });
    return () => ctl.abort();
  }, [state.expr, state.tab, state.range, state.end, state.step, state.stacked, nonce]);

  const execute = () => {
    onChange({ ...state, expr: draft });
    setNonce((n) => n + 1);
    if (draft.trim() !== '') onExecuted(draft);
  };
  const handlers = useRef<EditorHandlers>({ onChange: setDraft, onExecute: execute });
  handlers.current = { onChange: setDraft, onExecute: execute };
  const setTab = (tab: Tab) => onChange({ ...state, expr: draft, tab });
  const applyRange = (text: string) => {
    setRangeText(text);
    const ms = parseDuration(text);
    if (ms !== null) onChange({ ...state, range: ms });
  };
  const stepRange = (factor: number) => {
    const ms = Math.max(1000, Math.round(state.range * factor));
    setRangeText(formatDuration(ms));
    onChange({ ...state, range: ms });
  };
  const applyEnd = (text: string) => {
    setEndText(text);
    if (text.trim() === '') return onChange({ ...state, end: null });
    const t = Date.parse(`${text.trim().replace(' ', 'T')}Z`);
    if (Number.isFinite(t)) onChange({ ...state, end: t });
  };

  return (
    <section class="panel" data-testid={`panel-${index}`}>
      <div class="row">
        <ExpressionEditor initial={state.expr} handlers={handlers} setter={setEditor} />
        <button class="primary" onClick={execute} data-testid="execute">
          Execute
        </button>
        {onRemove && (
          <button onClick={onRemove} title="Remove this panel" aria-label="Remove panel">
            ✕
          </button>
        )}
      </div>
      {history.length > 0 && (
        <details>
          <summary class="muted">Query history</summary>
          <ul class="history">
            {history.slice(0, 15).map((h) => (
              <li key={h} class="mono" onClick={() => showDraft(h)}>
                {h}
              </li>
            ))}
          </ul>
        </details>
      )}
      <div class="tabs" role="tablist">
        <button role="tab" class={state.tab === 'table' ? 'active' : ''} onClick={() => setTab('table')}>
          Table
        </button>
        <button role="tab" class={state.tab === 'graph' ? 'active' : ''} onClick={() => setTab('graph')}>
          Graph
        </button>
      </div>
      <div class="row">
        {state.tab === 'graph' && (
          <>
            <button onClick={() => stepRange(0.5)} aria-label="Shorter range">
              −
            </button>
            <input
              size={6}
              value={rangeText}
              aria-label="Range"
              onChange={(e) => applyRange(e.currentTarget.value)}
            />
            <button onClick={() => stepRange(2)} aria-label="Longer range">
              +
            </button>
          </>
        )}
        <input
          size={19}
          value={endText}
          placeholder={
            state.tab === 'graph' ? 'End time (UTC), blank: now' : 'Evaluation time (UTC), blank: now'
          }
          aria-label="End time"
          onChange={(e) => applyEnd(e.currentTarget.value)}
        />
        {state.tab === 'graph' && (
          <>
            <input
              size={8}
              value={state.step === null ? '' : String(state.step)}
              placeholder={`Res. (${autoStep(state.range)}s)`}
              aria-label="Resolution in seconds"
              onChange={(e) => {
                const v = Number(e.currentTarget.value);
                onChange({ ...state, step: e.currentTarget.value.trim() !== '' && v > 0 ? v : null });
              }}
            />
            <label>
              <input
                type="checkbox"
                checked={state.stacked}
                onChange={(e) => onChange({ ...state, stacked: e.currentTarget.checked })}
              />{' '}
              Stacked
            </label>
          </>
        )}
        {(outcome.kind === 'table' || outcome.kind === 'graph') && (
          <span class="muted">Load time: {Math.round(outcome.ms)}ms</span>
        )}
      </div>
      {outcome.kind === 'loading' && <p class="muted">Loading…</p>}
      {outcome.kind === 'error' && (
        <div class="error" role="alert" data-testid="query-error">
          {outcome.message}
        </div>
      )}
      {(outcome.kind === 'table' || outcome.kind === 'graph') &&
        [...outcome.warnings, ...outcome.infos].map((w) => (
          <div class="warning" key={w}>
            {w}
          </div>
        ))}
      {outcome.kind === 'table' && <ResultTable data={outcome.data} />}
      {outcome.kind === 'graph' && (
        <Graph
          result={outcome.result}
          start={outcome.start}
          end={outcome.end}
          step={outcome.step}
          stacked={state.stacked}
        />
      )}
    </section>
  );
}
