import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { goTimeJSON } from '@pharos/template';
import { anchoredRegex } from '@pharos/regex';
import { compareAlerts, type Alert } from './alert.js';
import type { Alertmanager, PostableAlert } from './alertmanager.js';
import { labelSetBefore, labelSetString } from './labelset.js';
import { Matcher, matchesAll, parseMatchers } from './matchers.js';
import { SilenceError, silenceState, sortSilences, type Silence } from './silences.js';
import { maskSecrets } from './mask-secrets.js';

export interface VersionInfo {
  readonly branch: string;
  readonly buildDate: string;
  readonly buildUser: string;
  readonly goVersion: string;
  readonly revision: string;
  readonly version: string;
}

export interface AlertmanagerAPIOptions {
  readonly versionInfo: VersionInfo;
  /** Called by POST /-/reload; throws with the reason when the new config is refused. */
  readonly reload: () => Promise<void>;
  /** Where unexpected errors are logged. */
  readonly logger?: Logger;
}

type Query = Record<string, string | string[] | undefined>;

class BadRequest extends Error {}

interface AlertView {
  readonly alert: Alert;
  readonly receivers: readonly string[];
  readonly status: ReturnType<Alertmanager['alertStatus']>;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function boolParam(q: Query, name: string, def: boolean): boolean {
  const v = list(q[name])[0];
  if (v === undefined || v === '') return def;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new BadRequest(`${name} in query must be of type boolean: "${v}"`);
}

function filterMatchers(q: Query): Matcher[] {
  const out: Matcher[] = [];
  for (const f of list(q.filter)) {
    try {
      out.push(...parseMatchers(f));
    } catch (e) {
      throw new BadRequest((e as Error).message);
    }
  }
  return out;
}

/** RFC 3339 as strfmt.DateTime parses it; undefined for absent, NaN-free. */
function parseTime(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v !== 'string')
    throw new BadRequest(`${field} in body must be of type date-time: "${String(v)}"`);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new BadRequest(`${field} in body must be of type date-time: "${v}"`);
  return ms <= -62135596800000 ? 0 : ms;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new BadRequest(`${field} in body must be of type object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'string')
      throw new BadRequest(`${field}.${k} in body must be of type string: "${typeof x}"`);
    out[k] = x;
  }
  return out;
}

function parsePostableAlerts(body: unknown): PostableAlert[] {
  if (!Array.isArray(body)) throw new BadRequest('alerts in body must be of type array');
  return body.map((item: unknown, i): PostableAlert => {
    if (typeof item !== 'object' || item === null)
      throw new BadRequest(`${i} in body must be of type object`);
    const o = item as Record<string, unknown>;
    if (o.labels === undefined) throw new BadRequest(`${i}.labels in body is required`);
    return {
      labels: stringMap(o.labels, `${i}.labels`),
      annotations: stringMap(o.annotations, `${i}.annotations`),
      startsAt: parseTime(o.startsAt, `${i}.startsAt`),
      endsAt: parseTime(o.endsAt, `${i}.endsAt`),
      generatorURL: typeof o.generatorURL === 'string' ? o.generatorURL : '',
    };
  });
}

function silenceJSON(s: Silence, now: number) {
  return {
    id: s.id,
    status: { state: silenceState(s, now) },
    updatedAt: goTimeJSON(s.updatedAt),
    comment: s.comment,
    createdBy: s.createdBy,
    endsAt: goTimeJSON(s.endsAt),
    matchers: s.matchers.map((m) => ({
      isEqual: m.isEqual,
      isRegex: m.isRegex,
      name: m.name,
      value: m.value,
    })),
    startsAt: goTimeJSON(s.startsAt),
  };
}

/** v2.CheckSilenceMatchesFilterLabels: each filter matcher must match a silence matcher's value. */
function silenceMatchesFilter(s: Silence, filter: readonly Matcher[]): boolean {
  return filter.every((f) => {
    const sm = s.matchers.find((m) => m.name === f.name);
    return sm !== undefined && f.matches(sm.value);
  });
}

function parseSilenceMatchers(v: unknown): Matcher[] {
  if (!Array.isArray(v)) throw new BadRequest('matchers in body is required');
  if (v.length === 0) throw new BadRequest('matchers in body should have at least 1 items');
  return v.map((m: unknown, i) => {
    const o = (m ?? {}) as Record<string, unknown>;
    if (typeof o.name !== 'string') throw new BadRequest(`matchers.${i}.name in body is required`);
    if (typeof o.value !== 'string') throw new BadRequest(`matchers.${i}.value in body is required`);
    if (typeof o.isRegex !== 'boolean') throw new BadRequest(`matchers.${i}.isRegex in body is required`);
    const isEqual = o.isEqual === undefined ? true : o.isEqual === true;
    const type = o.isRegex ? (isEqual ? '=~' : '!~') : isEqual ? '=' : '!=';
    try {
      return new Matcher(type, o.name, o.value);
    } catch (e) {
      throw new BadRequest((e as Error).message);
    }
  });
}

/** The Alertmanager API v2 (api/v2/openapi.yaml), and /-/reload, on a Fastify app. */
export function registerAlertmanagerAPI(
  app: FastifyInstance,
  am: Alertmanager,
  opts: AlertmanagerAPIOptions,
): void {
  const handle =
    (fn: (req: FastifyRequest, reply: FastifyReply) => unknown) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        return await fn(req, reply);
      } catch (e) {
        if (e instanceof BadRequest)
          return reply.code(400).type('application/json').send(JSON.stringify(e.message));
        throw e;
      }
    };

  app.get('/api/v2/status', async () => ({
    cluster: {
      status: am.clusterStatus(),
      ...(am.clusterStatus() === 'disabled' ? {} : { name: am.peers()[0]?.name ?? '', peers: am.peers() }),
    },
    config: { original: maskSecrets(am.config.original) },
    uptime: goTimeJSON(am.startedAt),
    versionInfo: opts.versionInfo,
  }));

  app.get('/api/v2/receivers', async () => am.config.receivers.map((r) => ({ name: r.name })));

  /** An alert with its receivers and status, worked out once per request. */
  const view = (a: Alert): AlertView => ({
    alert: a,
    receivers: am.receiversFor(a),
    status: am.alertStatus(a),
  });

  const alertJSON = ({ alert: a, receivers, status }: AlertView) => ({
    annotations: a.annotations,
    endsAt: goTimeJSON(a.endsAt),
    fingerprint: a.fingerprint,
    receivers: receivers.map((name) => ({ name })),
    startsAt: goTimeJSON(a.startsAt),
    status,
    updatedAt: goTimeJSON(a.updatedAt),
    generatorURL: a.generatorURL,
    labels: a.labels,
  });

  /** The filters /alerts and /alerts/groups share. */
  const alertFilter = (q: Query) => {
    const active = boolParam(q, 'active', true);
    const silenced = boolParam(q, 'silenced', true);
    const inhibited = boolParam(q, 'inhibited', true);
    boolParam(q, 'unprocessed', true);
    const matchers = filterMatchers(q);
    const recv = list(q.receiver)[0];
    let re: ReturnType<typeof anchoredRegex> | undefined;
    if (recv !== undefined && recv !== '') {
      try {
        re = anchoredRegex(recv);
      } catch (e) {
        throw new BadRequest(`failed to parse receiver param: ${(e as Error).message}`);
      }
    }
    return ({ alert: a, status: st }: AlertView, receivers: readonly string[]): boolean => {
      if (re && !receivers.some((r) => re!.matches(r))) return false;
      if (!matchesAll(matchers, a.labels)) return false;
      if (!active && st.state === 'active') return false;
      if (!silenced && st.silencedBy.length > 0) return false;
      if (!inhibited && st.inhibitedBy.length > 0) return false;
      return true;
    };
  };

  app.get(
    '/api/v2/alerts',
    handle(async (req) => {
      const keep = alertFilter(req.query as Query);
      return am
        .visibleAlerts()
        .sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0))
        .map(view)
        .filter((v) => keep(v, v.receivers))
        .map(alertJSON);
    }),
  );

  app.post(
    '/api/v2/alerts',
    handle(async (req, reply) => {
      const errors = am.putAlerts(parsePostableAlerts(req.body));
      if (errors.length > 0)
        return reply
          .code(400)
          .type('application/json')
          .send(JSON.stringify(errors.join('; ')));
      return reply.code(200).send();
    }),
  );

  app.get(
    '/api/v2/alerts/groups',
    handle(async (req) => {
      const keep = alertFilter(req.query as Query);
      const now = am.clock.now();
      const groups = am.dispatcher
        .groupsView()
        .map((g) => ({
          labels: g.labels,
          receiver: { name: g.receiver },
          alerts: g.alerts
            .filter((a) => a.endsAt === 0 || a.endsAt > now)
            .sort(compareAlerts)
            .map(view)
            .filter((v) => keep(v, [g.receiver])),
        }))
        .filter((g) => g.alerts.length > 0);
      groups.sort((a, b) => {
        if (labelSetString(a.labels) === labelSetString(b.labels))
          return a.receiver.name < b.receiver.name ? -1 : 1;
        return labelSetBefore(a.labels, b.labels) ? -1 : 1;
      });
      return groups.map((g) => ({ ...g, alerts: g.alerts.map(alertJSON) }));
    }),
  );

  app.get(
    '/api/v2/silences',
    handle(async (req) => {
      const filter = filterMatchers(req.query as Query);
      const now = am.clock.now();
      return sortSilences(
        am.silences.list().filter((s) => silenceMatchesFilter(s, filter)),
        now,
      ).map((s) => silenceJSON(s, now));
    }),
  );

  app.post(
    '/api/v2/silences',
    handle(async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const matchers = parseSilenceMatchers(b.matchers);
      const startsAt = parseTime(b.startsAt, 'startsAt');
      const endsAt = parseTime(b.endsAt, 'endsAt');
      if (startsAt === 0) throw new BadRequest('startsAt in body is required');
      if (endsAt === 0) throw new BadRequest('endsAt in body is required');
      // go-swagger's RequiredString refuses the empty string as it refuses a missing one.
      if (typeof b.createdBy !== 'string' || b.createdBy === '')
        throw new BadRequest('createdBy in body is required');
      if (typeof b.comment !== 'string' || b.comment === '')
        throw new BadRequest('comment in body is required');
      if (startsAt > endsAt)
        throw new BadRequest('Failed to create silence: start time must be before end time');
      if (endsAt < am.clock.now())
        throw new BadRequest("Failed to create silence: end time can't be in the past");
      try {
        const silenceID = am.silences.set({
          id: typeof b.id === 'string' && b.id !== '' ? b.id : undefined,
          matchers,
          startsAt,
          endsAt,
          createdBy: b.createdBy,
          comment: b.comment,
        });
        await am.persistSilences();
        return { silenceID };
      } catch (e) {
        if (e instanceof SilenceError) {
          return reply
            .code(e.notFound ? 404 : 400)
            .type('application/json')
            .send(JSON.stringify(e.notFound ? `silence not found` : e.message));
        }
        throw e;
      }
    }),
  );

  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  app.get('/api/v2/silence/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!uuid.test(id))
      return reply.code(422).send({ code: 606, message: `silenceID in path must be of type uuid: "${id}"` });
    const s = am.silences.get(id);
    if (!s) return reply.code(404).send();
    return silenceJSON(s, am.clock.now());
  });

  app.delete('/api/v2/silence/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!uuid.test(id))
      return reply.code(422).send({ code: 606, message: `silenceID in path must be of type uuid: "${id}"` });
    try {
      am.silences.expire(id);
      await am.persistSilences();
    } catch (e) {
      if (e instanceof SilenceError && e.notFound) return reply.code(404).send();
      return reply
        .code(500)
        .type('application/json')
        .send(JSON.stringify((e as Error).message));
    }
    return reply.code(200).send();
  });

  app.post('/-/reload', async (_req, reply) => {
    try {
      await opts.reload();
      return reply.code(200).send();
    } catch (e) {
      return reply
        .code(500)
        .type('text/plain')
        .send(`failed to reload config: ${(e as Error).message}\n`);
    }
  });

  // A body that is not JSON is refused as go-swagger refuses it, naming the body and the reason.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      const what = req.url.startsWith('/api/v2/silences') ? 'silence' : 'alerts';
      return reply
        .code(400)
        .type('application/json')
        .send(
          JSON.stringify({
            code: 400,
            message: `parsing ${what} body from "" failed, because ${err.message}`,
          }),
        );
    }
    if (err.statusCode !== undefined && err.statusCode < 500)
      return reply.code(err.statusCode).type('application/json').send(JSON.stringify(err.message));
    opts.logger?.error({ err, url: req.url }, 'internal error serving Alertmanager API request');
    return reply.code(500).type('application/json').send(JSON.stringify(err.message));
  });
}
