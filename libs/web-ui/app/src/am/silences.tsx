import { useEffect, useState } from 'preact/hooks';
import { amApi } from '../api';
import { Show } from '../components';
import { useLoad } from '../use-api';
import { formatDuration, parseDuration } from '../url-state';
import { formatMatcher, parseFilter, type FormMatcher } from './matchers';

export interface Silence {
  id: string;
  matchers: FormMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
}

export function SilencesPage() {
  const [loaded, reload] = useLoad(() => amApi<Silence[]>('/api/v2/silences'), [], 10_000);
  const [error, setError] = useState('');
  const expire = async (id: string) => {
    try {
      await amApi(`/api/v2/silence/${encodeURIComponent(id)}`, { method: 'DELETE' });
      setError('');
      reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div>
      <h1>Silences</h1>
      <a href="#/silences/new">
        <button class="primary">New silence</button>
      </a>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <Show loaded={loaded}>
        {(silences) =>
          (['active', 'pending', 'expired'] as const).map((state) => {
            const list = silences.filter((s) => s.status.state === state);
            return (
              <section key={state}>
                <h2>
                  {state[0].toUpperCase() + state.slice(1)} ({list.length})
                </h2>
                {list.map((s) => (
                  <div class="panel" key={s.id} data-testid="silence">
                    <div class="row">
                      {s.matchers.map((m) => (
                        <span class="label" key={formatMatcher(m)}>
                          {formatMatcher(m)}
                        </span>
                      ))}
                    </div>
                    <div class="muted">
                      {state === 'expired' ? 'Expired' : 'Ends'} {new Date(s.endsAt).toISOString()} · by{' '}
                      {s.createdBy} · {s.comment}
                    </div>
                    <div class="row">
                      <a href={`#/silences/${s.id}/edit`}>
                        <button>{state === 'expired' ? 'Recreate' : 'Edit'}</button>
                      </a>
                      {state !== 'expired' && (
                        <button class="danger" onClick={() => void expire(s.id)}>
                          Expire
                        </button>
                      )}
                      <span class="muted mono">{s.id}</span>
                    </div>
                  </div>
                ))}
              </section>
            );
          })
        }
      </Show>
    </div>
  );
}

const blank = (): FormMatcher => ({ name: '', value: '', isRegex: false, isEqual: true });

/** New (optionally from a filter, as the alert's Silence link gives) or edit of an existing one. */
export function SilenceForm({ id, params }: { id?: string; params: URLSearchParams }) {
  const [matchers, setMatchers] = useState<FormMatcher[]>(() => {
    const f = params.get('filter');
    const parsed = f ? parseFilter(f) : [];
    return parsed.length > 0 ? parsed : [blank()];
  });
  const [start, setStart] = useState(() => new Date().toISOString());
  const [duration, setDuration] = useState('2h');
  const [createdBy, setCreatedBy] = useState(() => localStorage.getItem('pharos.silence.author') ?? '');
  const [comment, setComment] = useState('');
  const [error, setError] = useState('');
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    if (!id) return;
    amApi<Silence>(`/api/v2/silence/${encodeURIComponent(id)}`).then(
      (s) => {
        setMatchers(s.matchers.map((m) => ({ ...m, isEqual: m.isEqual ?? true })));
        setStart(s.status.state === 'expired' ? new Date().toISOString() : s.startsAt);
        setDuration(formatDuration(Math.max(60_000, Date.parse(s.endsAt) - Date.parse(s.startsAt))));
        setCreatedBy(s.createdBy);
        setComment(s.comment);
        setExpired(s.status.state === 'expired');
      },
      (e: unknown) => setError((e as Error).message),
    );
  }, [id]);

  const set = (i: number, patch: Partial<FormMatcher>) =>
    setMatchers(matchers.map((m, k) => (k === i ? { ...m, ...patch } : m)));
  const submit = async (e: Event) => {
    e.preventDefault();
    const ms = parseDuration(duration);
    const startsAt = Date.parse(start);
    if (ms === null) return setError(`invalid duration "${duration}"`);
    if (!Number.isFinite(startsAt)) return setError(`invalid start "${start}"`);
    localStorage.setItem('pharos.silence.author', createdBy);
    try {
      const body = {
        // An expired silence cannot be updated: recreating it makes a new one.
        ...(id && !expired ? { id } : {}),
        matchers: matchers.filter((m) => m.name !== ''),
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(startsAt + ms).toISOString(),
        createdBy,
        comment,
      };
      await amApi<{ silenceID: string }>('/api/v2/silences', { method: 'POST', body: JSON.stringify(body) });
      location.hash = '#/silences';
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div>
      <h1>{id ? 'Edit silence' : 'New silence'}</h1>
      <form class="grid" onSubmit={(e) => void submit(e)} data-testid="silence-form">
        <label for="start">Start</label>
        <input id="start" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
        <label for="duration">Duration</label>
        <input id="duration" value={duration} onInput={(e) => setDuration(e.currentTarget.value)} />
        <span>Matchers</span>
        <div>
          {matchers.map((m, i) => (
            <div class="row" key={i} style="margin-bottom: 4px">
              <input
                placeholder="name"
                aria-label={`Matcher ${i + 1} name`}
                value={m.name}
                size={12}
                onInput={(e) => set(i, { name: e.currentTarget.value })}
              />
              <select
                aria-label={`Matcher ${i + 1} operator`}
                value={m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!='}
                onChange={(e) => {
                  const op = e.currentTarget.value;
                  set(i, { isRegex: op.includes('~'), isEqual: !op.startsWith('!') });
                }}
              >
                <option>=</option>
                <option>!=</option>
                <option>=~</option>
                <option>!~</option>
              </select>
              <input
                placeholder="value"
                aria-label={`Matcher ${i + 1} value`}
                value={m.value}
                class="grow"
                onInput={(e) => set(i, { value: e.currentTarget.value })}
              />
              <button
                type="button"
                onClick={() => setMatchers(matchers.filter((_, k) => k !== i))}
                aria-label="Remove matcher"
              >
                ✕
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setMatchers([...matchers, blank()])}>
            Add matcher
          </button>
        </div>
        <label for="creator">Creator</label>
        <input id="creator" value={createdBy} onInput={(e) => setCreatedBy(e.currentTarget.value)} />
        <label for="comment">Comment</label>
        <textarea id="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        <span />
        <div class="row">
          <button class="primary" type="submit">
            {id && !expired ? 'Update' : 'Create'}
          </button>
          <a href="#/silences">Cancel</a>
        </div>
      </form>
      {error && (
        <div class="error" role="alert" data-testid="silence-error">
          {error}
        </div>
      )}
    </div>
  );
}
