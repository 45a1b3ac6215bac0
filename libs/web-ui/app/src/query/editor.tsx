import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  closeCompletion,
  completionKeymap,
  completionStatus,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import { memo } from 'preact/compat';
import { useEffect, useRef } from 'preact/hooks';

export interface EditorHandlers {
  onChange(v: string): void;
  onExecute(): void;
}

interface Props {
  readonly initial: string;
  /** Read on every event, so the owner may replace them on each render. */
  readonly handlers: { readonly current: EditorHandlers };
  /** Filled with a function that replaces the text (history, a changed URL). */
  readonly setter: { current: ((v: string) => void) | null };
}

// Completion of metric names, label names, label values and functions comes from this server's
// own API (same origin), as Prometheus' UI does it.
const promql = new PromQLExtension()
  .activateCompletion(true)
  .activateLinter(false)
  .setComplete({
    remote: { url: '', httpMethod: 'GET', lookbackInterval: 12 * 3_600_000 },
    maxMetricsMetadata: 10_000,
  });

function EditorImpl({ initial, handlers, setter }: Props) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: initial,
        extensions: [
          history(),
          closeBrackets(),
          bracketMatching(),
          autocompletion(),
          syntaxHighlighting(defaultHighlightStyle),
          placeholder('Expression (press Enter to execute, Shift+Enter for a new line)'),
          EditorView.lineWrapping,
          keymap.of([
            {
              key: 'Enter',
              // With the completion list open, Enter picks the completion instead.
              run: (v) => {
                if (completionStatus(v.state) === 'active') return false;
                handlers.current.onExecute();
                return true;
              },
            },
            { key: 'Shift-Enter', run: insertNewlineAndIndent },
            ...closeBracketsKeymap,
            ...completionKeymap,
            ...historyKeymap,
            ...defaultKeymap,
          ]),
          promql.asExtension(),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) handlers.current.onChange(u.state.doc.toString());
          }),
          // The list would otherwise stay open over the results once the query runs.
          EditorView.domEventHandlers({
            blur: (_e, v) => {
              closeCompletion(v);
            },
          }),
          EditorView.contentAttributes.of({ 'aria-label': 'Expression' }),
        ],
      }),
    });
    setter.current = (text) => {
      if (v.state.doc.toString() !== text)
        v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
    };
    return () => {
      setter.current = null;
      v.destroy();
    };
  }, []);

  return <div class="editor grow" ref={host} data-testid="expression-editor" />;
}

/**
 * The editor is rendered once and never again by Preact: CodeMirror owns its DOM, and a
 * re-render of its host while typing froze the page. Text goes in through `setter`.
 */
export const ExpressionEditor = memo(EditorImpl, () => true);
