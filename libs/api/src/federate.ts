import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatGoFloat } from '@pharos/exposition';
import {
  compareLabels,
  isStaleNaN,
  labelsKey,
  METRIC_NAME,
  sortSliced,
  TimeSlice,
  type Label,
  type Labels,
} from '@pharos/model';
import { ParseError, parseMetricSelector, QueryError } from '@pharos/promql';
import type { Queryable } from '@pharos/tsdb';
import { Params } from './params.js';

export interface FederateDeps {
  readonly queryable: Queryable;
  readonly lookbackDelta: number;
  readonly externalLabels: () => Readonly<Record<string, string>>;
  readonly now?: () => number;
  /** Runs the read as a query: a --query.max-concurrency slot, the query timeout as its signal. */
  readonly limited?: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(l: Label): string {
  const name = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l.name) ? l.name : `"${escapeValue(l.name)}"`;
  return `${name}="${escapeValue(l.value)}"`;
}

/**
 * Prometheus' /federate: the newest sample (within the lookback delta) of every series a
 * `match[]` selects, in the text exposition format, untyped, with timestamps, external labels
 * added where a series lacks them (and an empty instance label, as upstream).
 */
export function registerFederate(app: FastifyInstance, deps: FederateDeps): void {
  app.get('/federate', async (req: FastifyRequest, reply: FastifyReply) => {
    const p = Params.from(req.query, undefined);
    let selectors;
    try {
      selectors = p.getAll('match[]').map((m) => parseMetricSelector(m));
    } catch (e) {
      const msg = e instanceof ParseError ? e.message : String(e);
      return reply.code(400).type('text/plain; charset=utf-8').send(`${msg}\n`);
    }
    const now = deps.now?.() ?? Date.now();
    const read = async (signal?: AbortSignal) => {
      const slice = new TimeSlice(signal);
      const seen = new Map<string, Newest>();
      for (const matchers of selectors) {
        for (const s of await deps.queryable.select(matchers, now - deps.lookbackDelta, now, signal)) {
          if (slice.due()) await slice.pause();
          const i = s.timestamps.length - 1;
          if (i < 0 || isStaleNaN(s.values[i])) continue;
          seen.set(labelsKey(s.labels), { labels: s.labels, t: s.timestamps[i], v: s.values[i] });
        }
      }
      return sortSliced([...seen.values()], (a, b) => compareLabels(a.labels, b.labels), slice);
    };
    let newest: Newest[];
    try {
      newest = await (deps.limited ? deps.limited(read) : read());
    } catch (e) {
      if (e instanceof QueryError && e.kind === 'timeout')
        return reply.code(503).type('text/plain; charset=utf-8').send(`${e.message}\n`);
      throw e;
    }
    return reply
      .code(200)
      .header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
      .send(Readable.from(federateText(newest, { instance: '', ...deps.externalLabels() })));
  });
}

interface Newest {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** The federation text in pieces, giving the event loop back between them. */
async function* federateText(newest: readonly Newest[], external: Readonly<Record<string, string>>) {
  const slice = new TimeSlice();
  let buf = '';
  let lastName: string | undefined;
  for (const { labels, t, v } of newest) {
    const name = labels.find((l) => l.name === METRIC_NAME)?.value ?? '';
    const rest: Label[] = labels.filter((l) => l.name !== METRIC_NAME);
    for (const [k, val] of Object.entries(external)) {
      if (!rest.some((l) => l.name === k)) rest.push({ name: k, value: val });
    }
    rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (name !== lastName) {
      buf += `# TYPE ${name} untyped\n`;
      lastName = name;
    }
    buf += `${name}{${rest.map(labelText).join(',')}} ${formatGoFloat(v)} ${t}\n`;
    if (buf.length >= 64 * 1024) {
      yield buf;
      buf = '';
      if (slice.due()) await slice.pause();
    }
  }
  yield buf;
}
