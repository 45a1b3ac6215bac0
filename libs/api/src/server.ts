import { Readable } from 'node:stream';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PrometheusConfig } from '@pharos/config';
import {
  compareLabels,
  labelsKey,
  sortSliced,
  TimeSlice,
  type LabelMatcher,
  type Labels,
} from '@pharos/model';
import { BUILD_INFO, WebSecurity } from '@pharos/observability';
import {
  exprToJson,
  ParseError,
  parseExpr,
  parseMetricSelector,
  prettyExpr,
  QueryError,
  type Engine,
  type QueryResult,
} from '@pharos/promql';
import type { ScrapeManager } from '@pharos/scrape';
import type { Queryable } from '@pharos/tsdb';
import { ApiError, badData } from './errors.js';
import { resultJSONStream, seriesJSONStream, successJSON, successJSONStream } from './json.js';
import { MAX_TIME, MIN_TIME, Params, parseDurationParam } from './params.js';
import { registerFederate } from './federate.js';
import { QueryLimiter } from './limiter.js';
import { PROMETHEUS_UI_ROUTES, registerUI } from '@pharos/web-ui';
import { registerRemoteRoutes, type RemoteDeps } from './remote-routes.js';
import { alertsJSON, rulesJSON } from './rules.js';
import { localRuleSource, type RuleSource } from './rule-source.js';
import { metadataJSON, targetsJSON, targetsMetadataJSON } from './targets.js';

export interface ApiDeps {
  readonly queryable: Queryable;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly config: () => PrometheusConfig;
  readonly flags: Readonly<Record<string, string>>;
  readonly scrape?: ScrapeManager;
  readonly ready: () => boolean;
  /** Present when --web.enable-lifecycle is set. */
  readonly reload?: () => Promise<void>;
  /** Present when --web.enable-lifecycle is set: begins the graceful shutdown. */
  readonly quit?: () => void;
  /** Targets relabeling dropped, when discovery rather than the scrape manager relabels. */
  readonly droppedTargets?: () => ReadonlyArray<{
    readonly scrapePool: string;
    readonly discoveredLabels: Labels;
  }>;
  /** Whether the last configuration (re)load worked, and when one last did. */
  readonly lastReload?: () => { readonly success: boolean; readonly time: Date };
  readonly storageRetention?: string;
  readonly startTime: Date;
  /**
   * --query.max-concurrency and the query timeout, shared with the gRPC query service so both
   * count against one limit; by default the engine's timeout and 20 slots.
   */
  readonly limiter?: QueryLimiter;
  /**
   * Head statistics and label cardinalities for /api/v1/status/tsdb: this process' shards, or
   * every partition's over the ingesters, with a warning for what is missing.
   */
  readonly tsdbStatus?: () => TsdbStatus | Promise<{ status: TsdbStatus; warnings: readonly string[] }>;
  /**
   * The rules, their alerts and the Alertmanagers they go to, for /api/v1/rules, /api/v1/alerts
   * and /api/v1/alertmanagers: this process' own, or every ruler's (the distributed querier).
   */
  readonly rules?: RuleSource;
  /** Present when --web.enable-remote-write-receiver is set: the write path for pushed samples. */
  readonly remoteWrite?: RemoteDeps['remoteWrite'];
  readonly maxSamplesPerRequest?: number;
  /** --web.config.file: TLS, basic auth, headers and rate limit on every endpoint. */
  readonly webConfigFile?: string;
  /** --web.enable-admin-api: the TSDB admin actions; without it they answer 503. */
  readonly admin?: AdminActions;
}

export interface AdminActions {
  /** Removes the samples of series matching any of the sets between start and end. */
  deleteSeries(sets: LabelMatcher[][], start: number, end: number): Promise<void>;
  /** Writes a snapshot under the storage directory's snapshots/ and returns its name. */
  snapshot(skipHead: boolean): Promise<string>;
}

const MAX_POINTS = 11_000;

export interface TsdbStatus {
  numSeries: number;
  chunkCount: number;
  minTime: number;
  maxTime: number;
  /** [label name, label value, series] for every label pair. */
  pairs: ReadonlyArray<readonly [string, string, number]>;
}

function topN(entries: Iterable<[string, number]>, n: number): Array<{ name: string; value: number }> {
  return [...entries]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([name, value]) => ({ name, value }));
}

/** The shape of Prometheus' /api/v1/status/tsdb. */
function tsdbStatusJson(st: TsdbStatus, limit: number) {
  const byMetric = new Map<string, number>();
  const valuesByName = new Map<string, number>();
  const bytesByName = new Map<string, number>();
  const byPair = new Map<string, number>();
  for (const [name, value, series] of st.pairs) {
    if (name === '__name__') byMetric.set(value, series);
    valuesByName.set(name, (valuesByName.get(name) ?? 0) + 1);
    bytesByName.set(name, (bytesByName.get(name) ?? 0) + value.length);
    byPair.set(`${name}=${value}`, series);
  }
  const empty = st.numSeries === 0;
  return {
    headStats: {
      numSeries: st.numSeries,
      numLabelPairs: st.pairs.length,
      chunkCount: st.chunkCount,
      minTime: empty ? Number.MAX_SAFE_INTEGER : st.minTime,
      maxTime: empty ? Number.MIN_SAFE_INTEGER : st.maxTime,
    },
    seriesCountByMetricName: topN(byMetric, limit),
    labelValueCountByLabelName: topN(valuesByName, limit),
    memoryInBytesByLabelName: topN(bytesByName, limit),
    seriesCountByLabelValuePair: topN(byPair, limit),
  };
}

export async function createApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const security = WebSecurity.load(deps.webConfigFile, deps.logger);
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => security.createServer(handler),
    bodyLimit: 32 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });
  security.install(app);
  await app.register(formbody);

  const requests = new Counter({
    name: 'prometheus_http_requests_total',
    help: 'Counter of HTTP requests.',
    labelNames: ['handler', 'code'],
    registers: [deps.registry],
  });
  const durations = new Histogram({
    name: 'prometheus_http_request_duration_seconds',
    help: 'Histogram of latencies for HTTP requests.',
    labelNames: ['handler'],
    buckets: [0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120],
    registers: [deps.registry],
  });
  const queryDuration = new Histogram({
    name: 'prometheus_engine_query_duration_seconds',
    help: 'Query timings.',
    labelNames: ['slice'],
    registers: [deps.registry],
  });
  const limiter = deps.limiter ?? new QueryLimiter(deps.engine.opts.timeout, 20);
  const gate = limiter.gate;
  new Gauge({
    name: 'prometheus_engine_queries',
    help: 'The current number of queries being executed or waiting.',
    registers: [deps.registry],
    collect() {
      this.set(gate.inUse);
    },
  });
  new Gauge({
    name: 'prometheus_engine_queries_concurrent_max',
    help: 'The max number of concurrent queries.',
    registers: [deps.registry],
  }).set(gate.limit);
  /**
   * Every query-like request (queries, series, labels, federate, remote read) takes a slot of
   * --query.max-concurrency and runs under the query timeout (or its own shorter `timeout`);
   * its reads stop when the signal aborts.
   */
  const limited = <T>(p: Params | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const v = p?.get('timeout');
    return limiter.run(v !== undefined && v !== '' ? parseDurationParam(v, 'timeout') : undefined, fn);
  };
  // Remote read and federate take no `timeout` parameter upstream: the flag's timeout is theirs.
  const limitedRead = <T>(fn: (signal: AbortSignal) => Promise<T>) => limited(undefined, fn);
  registerRemoteRoutes(app, { ...deps, limited: limitedRead });
  await registerUI(app, 'index.html', PROMETHEUS_UI_ROUTES);
  registerFederate(app, {
    queryable: deps.queryable,
    lookbackDelta: deps.engine.opts.lookbackDelta,
    externalLabels: () => deps.config().global.externalLabels,
    limited: limitedRead,
  });
  app.addHook('onResponse', async (req, reply) => {
    const handler = req.routeOptions.url ?? 'other';
    requests.inc({ handler, code: String(reply.statusCode) });
    durations.observe({ handler }, reply.elapsedTime / 1000);
  });

  // A Buffer body keeps the content type exactly "application/json", as Prometheus sends it;
  // fastify would add a charset to a string.
  const send = (reply: FastifyReply, json: string, status = 200) =>
    reply.code(status).header('content-type', 'application/json').send(Buffer.from(json));

  const sendError = (reply: FastifyReply, err: unknown) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err instanceof ParseError) e = badData(err.message);
    else if (err instanceof QueryError) {
      e = new ApiError(
        err.kind === 'timeout' ? 'timeout' : err.kind === 'canceled' ? 'canceled' : 'execution',
        err.message,
      );
    } else {
      deps.logger.error({ err }, 'internal error serving API request');
      e = new ApiError('internal', err instanceof Error ? err.message : String(err));
    }
    return send(reply, JSON.stringify({ status: 'error', errorType: e.type, error: e.message }), e.status);
  };

  const handle =
    (fn: (p: Params, req: FastifyRequest) => Promise<string>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        return send(reply, await fn(Params.from(req.query, req.body), req));
      } catch (err) {
        return sendError(reply, err);
      }
    };

  /** As `handle`, for answers sent in pieces as they are encoded (results, series). */
  const handleStream =
    (fn: (p: Params, req: FastifyRequest) => Promise<AsyncIterable<string>>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      let body: AsyncIterable<string>;
      try {
        body = await fn(Params.from(req.query, req.body), req);
      } catch (err) {
        return sendError(reply, err);
      }
      return reply.code(200).header('content-type', 'application/json').send(Readable.from(body));
    };

  const runQuery = async (
    label: string,
    p: Params,
    fn: (signal: AbortSignal) => Promise<QueryResult>,
  ): Promise<AsyncIterable<string>> => {
    const end = queryDuration.startTimer({ slice: label });
    try {
      const r = await limited(p, fn);
      return successJSONStream(resultJSONStream(r, (p.get('stats') ?? '') !== ''), r.annotations);
    } finally {
      end();
    }
  };

  const query = handleStream(async (p) => {
    const q = p.get('query');
    if (q === undefined) throw badData('invalid parameter "query": query must be provided');
    const time = p.time('time', Date.now());
    return runQuery('instant', p, (signal) => deps.engine.instantQuery(deps.queryable, q, time, signal));
  });

  const queryRange = handleStream(async (p) => {
    const q = p.get('query');
    if (q === undefined) throw badData('invalid parameter "query": query must be provided');
    const start = p.time('start', NaN);
    const end = p.time('end', NaN);
    if (Number.isNaN(start)) throw badData('invalid parameter "start": cannot parse "" to a valid timestamp');
    if (Number.isNaN(end)) throw badData('invalid parameter "end": cannot parse "" to a valid timestamp');
    if (end < start) throw badData('invalid parameter "end": end timestamp must not be before start time');
    const stepStr = p.get('step') ?? '';
    const step = parseDurationParam(stepStr, 'step');
    if (step <= 0)
      throw badData(
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    if ((end - start) / step > MAX_POINTS) {
      throw badData(
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    return runQuery('range', p, (signal) =>
      deps.engine.rangeQuery(deps.queryable, q, start, end, step, signal),
    );
  });

  const matcherSets = (p: Params): LabelMatcher[][] =>
    p.getAll('match[]').map((m) => {
      try {
        return parseMetricSelector(m);
      } catch (e) {
        throw badData(e instanceof Error ? e.message : String(e));
      }
    });

  const range = (p: Params) => ({ start: p.time('start', MIN_TIME), end: p.time('end', MAX_TIME) });

  const labels = handle(async (p) => {
    const { start, end } = range(p);
    const sets = matcherSets(p);
    const names = await limited(p, async (signal) => {
      const found = new Set<string>();
      for (const ms of sets.length > 0 ? sets : [[]]) {
        for (const n of await deps.queryable.labelNames(ms, start, end, signal)) found.add(n);
      }
      return found;
    });
    return successJSON(JSON.stringify(limitList([...names].sort(), p.limit())));
  });

  const labelValues = handle(async (p, req) => {
    const name = decodeLabelName((req.params as { name: string }).name);
    const { start, end } = range(p);
    const sets = matcherSets(p);
    const values = await limited(p, async (signal) => {
      const found = new Set<string>();
      for (const ms of sets.length > 0 ? sets : [[]]) {
        for (const v of await deps.queryable.labelValues(name, ms, start, end, signal)) found.add(v);
      }
      return found;
    });
    return successJSON(JSON.stringify(limitList([...values].sort(), p.limit())));
  });

  const series = handleStream(async (p) => {
    const sets = matcherSets(p);
    if (sets.length === 0) throw badData('no match[] parameter provided');
    const { start, end } = range(p);
    const found = await limited(p, async (signal) => {
      const slice = new TimeSlice(signal);
      const byKey = new Map<string, Labels>();
      for (const ms of sets) {
        for (const ls of await deps.queryable.series(ms, start, end, signal)) {
          if (slice.due()) await slice.pause();
          byKey.set(labelsKey(ls), ls);
        }
      }
      return sortSliced([...byKey.values()], compareLabels, slice);
    });
    return successJSONStream(seriesJSONStream(limitList(found, p.limit())), { warnings: [], infos: [] });
  });

  for (const [path, h] of [
    ['/api/v1/query', query],
    ['/api/v1/query_range', queryRange],
    ['/api/v1/labels', labels],
    ['/api/v1/series', series],
  ] as const) {
    app.get(path, h);
    app.post(path, h);
  }
  app.get('/api/v1/label/:name/values', labelValues);

  const parsedQuery = (p: Params) => {
    const q = p.get('query');
    if (q === undefined || q === '') throw badData('invalid parameter "query": query must not be empty');
    try {
      return parseExpr(q);
    } catch (e) {
      if (e instanceof ParseError) throw badData(`invalid parameter "query": ${e.message}`);
      throw e;
    }
  };
  const formatQuery = handle(async (p) => successJSON(JSON.stringify(prettyExpr(parsedQuery(p)))));
  const parseQuery = handle(async (p) => successJSON(JSON.stringify(exprToJson(parsedQuery(p)))));
  // Exemplars are not stored yet: the query is validated as Prometheus does and none are found.
  const queryExemplars = handle(async (p) => {
    parsedQuery(p);
    const start = p.time('start', MIN_TIME);
    const end = p.time('end', MAX_TIME);
    if (end < start) throw badData('end timestamp must not be before start timestamp');
    return successJSON('[]');
  });
  for (const [path, h] of [
    ['/api/v1/format_query', formatQuery],
    ['/api/v1/parse_query', parseQuery],
    ['/api/v1/query_exemplars', queryExemplars],
  ] as const) {
    app.get(path, h);
    app.post(path, h);
  }

  app.get(
    '/api/v1/status/tsdb',
    handle(async (p) => {
      if (!deps.tsdbStatus) throw new ApiError('unavailable', 'TSDB status is not available');
      const limitText = p.get('limit') ?? '10';
      const limit = Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) throw badData('limit must be a positive number');
      const got = await deps.tsdbStatus();
      const [st, warnings] = 'status' in got ? [got.status, got.warnings] : [got, []];
      return successJSON(JSON.stringify(tsdbStatusJson(st, limit)), warnings);
    }),
  );

  app.get(
    '/api/v1/status/buildinfo',
    handle(async () =>
      successJSON(
        JSON.stringify({
          version: BUILD_INFO.version,
          revision: BUILD_INFO.revision,
          branch: BUILD_INFO.branch,
          buildUser: BUILD_INFO.buildUser,
          buildDate: BUILD_INFO.buildDate,
          goVersion: BUILD_INFO.goVersion,
        }),
      ),
    ),
  );
  app.get(
    '/api/v1/status/config',
    handle(async () => successJSON(JSON.stringify({ yaml: deps.config().source }))),
  );
  app.get(
    '/api/v1/status/flags',
    handle(async () => successJSON(JSON.stringify(deps.flags))),
  );
  app.get(
    '/api/v1/status/runtimeinfo',
    handle(async () =>
      successJSON(
        JSON.stringify({
          startTime: deps.startTime.toISOString(),
          CWD: process.cwd(),
          reloadConfigSuccess: deps.lastReload?.().success ?? true,
          lastConfigTime: (deps.lastReload?.().time ?? deps.startTime).toISOString(),
          corruptionCount: 0,
          goroutineCount: 0,
          GOMAXPROCS: 1,
          GOMEMLIMIT: 0,
          GOGC: '',
          GODEBUG: '',
          storageRetention: deps.storageRetention ?? '',
        }),
      ),
    ),
  );

  const scrape = deps.scrape;
  const dropped = deps.droppedTargets ?? (() => scrape?.droppedTargets() ?? []);
  app.get(
    '/api/v1/targets',
    handle(async (p) => successJSON(targetsJSON(scrape, dropped(), p))),
  );
  app.get(
    '/api/v1/targets/metadata',
    handle(async (p) => successJSON(targetsMetadataJSON(scrape, p))),
  );
  app.get(
    '/api/v1/scrape_pools',
    handle(async () => successJSON(JSON.stringify({ scrapePools: scrape?.poolNames() ?? [] }))),
  );
  app.get(
    '/api/v1/metadata',
    handle(async (p) => successJSON(metadataJSON(scrape, p))),
  );

  const ruleState = deps.rules ?? localRuleSource(undefined);
  app.get(
    '/api/v1/rules',
    handle(async (p) => {
      const s = await ruleState();
      return successJSON(rulesJSON(s.groups, p), s.warnings);
    }),
  );
  app.get(
    '/api/v1/alerts',
    handle(async () => {
      const s = await ruleState();
      return successJSON(alertsJSON(s.groups), s.warnings);
    }),
  );
  app.get(
    '/api/v1/alertmanagers',
    handle(async () => {
      const s = await ruleState();
      return successJSON(
        JSON.stringify({
          activeAlertmanagers: s.alertmanagers.map((url) => ({ url })),
          droppedAlertmanagers: [],
        }),
        s.warnings,
      );
    }),
  );

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  app.get('/-/healthy', async (_req, reply) => reply.type('text/plain').send('Pharos is Healthy.\n'));
  app.get('/-/ready', async (_req, reply) =>
    deps.ready()
      ? reply.type('text/plain').send('Pharos is Ready.\n')
      : reply.code(503).type('text/plain').send('Service Unavailable\n'),
  );
  const reload = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (!deps.reload) return reply.code(403).type('text/plain').send('Lifecycle API is not enabled.\n');
    try {
      await deps.reload();
      return reply.type('text/plain').send('');
    } catch (e) {
      return reply
        .code(500)
        .type('text/plain')
        .send(`failed to reload config: ${(e as Error).message}\n`);
    }
  };
  app.post('/-/reload', reload);
  app.put('/-/reload', reload);
  const quit = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (!deps.quit) return reply.code(403).type('text/plain').send('Lifecycle API is not enabled.\n');
    // Answer first: the shutdown closes this server.
    reply.raw.once('finish', () => deps.quit?.());
    return reply.type('text/plain').send('Requesting termination... Goodbye!\n');
  };
  app.post('/-/quit', quit);
  app.put('/-/quit', quit);
  const admin = deps.admin;
  const adminDisabled = async (_req: FastifyRequest, reply: FastifyReply) =>
    send(
      reply,
      JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'admin APIs disabled' }),
      503,
    );
  const adminAction =
    (fn: (p: Params, a: AdminActions) => Promise<string | null>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      if (!admin) return adminDisabled(req, reply);
      try {
        const body = await fn(Params.from(req.query, req.body), admin);
        return body === null ? reply.code(204).send() : send(reply, body);
      } catch (err) {
        return sendError(reply, err);
      }
    };
  const adminRoutes: Array<[string, ReturnType<typeof adminAction>]> = [
    [
      'delete_series',
      adminAction(async (p, a) => {
        const sets = matcherSets(p);
        if (sets.length === 0) throw badData('no match[] parameter provided');
        const { start, end } = range(p);
        await a.deleteSeries(sets, start, end);
        return null;
      }),
    ],
    // Deletions rewrite the series at once, so there are never tombstones left to clean.
    ['clean_tombstones', adminAction(async () => null)],
    [
      'snapshot',
      adminAction(async (p, a) => {
        const raw = p.get('skip_head') ?? '';
        // strconv.ParseBool's spellings, as upstream parses the flag.
        const yes = ['1', 't', 'T', 'TRUE', 'true', 'True'];
        const no = ['', '0', 'f', 'F', 'FALSE', 'false', 'False'];
        if (!yes.includes(raw) && !no.includes(raw))
          throw badData(
            `invalid parameter "skip_head": unable to parse boolean: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`,
          );
        const name = await a.snapshot(yes.includes(raw));
        return successJSON(JSON.stringify({ name }));
      }),
    ],
  ];
  for (const [path, h] of adminRoutes) {
    app.post(`/api/v1/admin/tsdb/${path}`, h);
    app.put(`/api/v1/admin/tsdb/${path}`, h);
  }

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/'))
      return send(
        reply,
        JSON.stringify({ status: 'error', errorType: 'not_found', error: 'not found' }),
        404,
      );
    return reply.code(404).type('text/plain').send('404 page not found\n');
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 400 || status === 415) return sendError(reply, badData(err.message));
    // The caller's mistake (a path that climbs out of /assets/, a body over the limit): its own
    // status, and nothing for the operator's error log.
    if (status >= 400 && status < 500) {
      if (req.url.startsWith('/api/'))
        return send(
          reply,
          JSON.stringify({ status: 'error', errorType: 'bad_data', error: err.message }),
          status,
        );
      return reply.code(status).type('text/plain; charset=utf-8').send(`${status} ${err.message}\n`);
    }
    return sendError(reply, err);
  });
  return app;
}

function limitList<T>(list: T[], limit: number): T[] {
  return limit > 0 && list.length > limit ? list.slice(0, limit) : list;
}

/** Prometheus 3 lets UTF-8 label names be passed in paths escaped as U__ with _XX_ hex runs. */
export function decodeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  return name
    .slice(3)
    .replace(/_([0-9a-fA-F]+)_|__/g, (_m, hex: string | undefined) =>
      hex ? String.fromCodePoint(parseInt(hex, 16)) : '_',
    );
}
