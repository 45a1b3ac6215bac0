import {
  status,
  type sendUnaryData,
  type Server,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { labelsKey, type LabelMatcher, type Labels } from '@pharos/model';
import { ParseError, parseMetricSelector, QueryError, type Engine, type QueryResult } from '@pharos/promql';
import {
  QueryService,
  ResultType,
  type InstantQueryRequest,
  type LabelsQueryRequest,
  type LabelValuesQueryRequest,
  type QueryResponse,
  type RangeQueryRequest,
  type SeriesQueryRequest,
} from '@pharos/proto';
import type { Queryable } from '@pharos/tsdb';
import { QueryLimiter } from './limiter.js';

export interface QueryServiceDeps {
  readonly queryable: Queryable;
  readonly engine: Engine;
  /** Shared with the HTTP API: one --query.max-concurrency and timeout for both. */
  readonly limiter?: QueryLimiter;
}

class BadRequest extends Error {}

function grpcError(e: unknown): Partial<ServiceError> {
  const message = e instanceof Error ? e.message : String(e);
  let code = status.INTERNAL;
  if (e instanceof BadRequest || e instanceof ParseError) code = status.INVALID_ARGUMENT;
  else if (e instanceof QueryError) {
    code =
      e.kind === 'timeout'
        ? status.DEADLINE_EXCEEDED
        : e.kind === 'canceled'
          ? status.CANCELLED
          : e.kind === 'too_many_samples' || e.kind === 'too_many_series'
            ? status.RESOURCE_EXHAUSTED
            : status.FAILED_PRECONDITION;
  }
  return { code, message, details: message };
}

function unary<Req, Res>(fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (e: unknown) => callback(grpcError(e)),
    );
  };
}

const labelsOut = (ls: Labels) => ls.map((l) => ({ name: l.name, value: l.value }));

function response(r: QueryResult): QueryResponse {
  const base = {
    series: [],
    scalar: 0,
    stringValue: '',
    timeMs: 0,
    warnings: [...r.annotations.warnings],
    infos: [...r.annotations.infos],
  };
  // The proto has no histogram values yet: histogram samples are left out, and said so.
  const histograms =
    r.resultType === 'vector'
      ? r.result.some((s) => s.h)
      : r.resultType === 'matrix' && r.result.some((s) => s.histograms && s.histograms.length > 0);
  if (histograms)
    base.warnings.push('native histogram samples are not carried by pharos.v1.Query and were left out');
  switch (r.resultType) {
    case 'scalar':
      return { ...base, resultType: ResultType.SCALAR, scalar: r.v, timeMs: r.t };
    case 'string':
      return { ...base, resultType: ResultType.STRING, stringValue: r.v, timeMs: r.t };
    case 'vector':
      return {
        ...base,
        resultType: ResultType.VECTOR,
        series: r.result
          .filter((s) => !s.h)
          .map((s) => ({ labels: labelsOut(s.labels), timestampsMs: [s.t], values: [s.v] })),
      };
    case 'matrix':
      return {
        ...base,
        resultType: ResultType.MATRIX,
        series: r.result.map((s) => ({
          labels: labelsOut(s.labels),
          timestampsMs: Array.from(s.timestamps),
          values: Array.from(s.values),
        })),
      };
  }
}

function selectors(match: readonly string[]): LabelMatcher[][] {
  try {
    return match.map((m) => parseMetricSelector(m));
  } catch (e) {
    throw new BadRequest(e instanceof Error ? e.message : String(e));
  }
}

/** The pharos.v1.Query service: PromQL and metadata for gRPC clients. */
export function addQueryService(server: Server, deps: QueryServiceDeps): void {
  const { queryable, engine } = deps;
  const limiter = deps.limiter ?? new QueryLimiter(engine.opts.timeout, 20);
  server.addService(QueryService, {
    instant: unary(async (req: InstantQueryRequest) => {
      if (req.query === '') throw new BadRequest('query must not be empty');
      const r = await limiter.run(req.timeoutMs, (signal) =>
        engine.instantQuery(queryable, req.query, req.timeMs ?? Date.now(), signal),
      );
      return response(r);
    }),
    range: unary(async (req: RangeQueryRequest) => {
      if (req.query === '') throw new BadRequest('query must not be empty');
      if (req.stepMs <= 0)
        throw new BadRequest('zero or negative query resolution step widths are not accepted');
      if (req.endMs < req.startMs) throw new BadRequest('end timestamp must not be before start time');
      if ((req.endMs - req.startMs) / req.stepMs > 11_000) {
        throw new BadRequest(
          'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
        );
      }
      const r = await limiter.run(req.timeoutMs, (signal) =>
        engine.rangeQuery(queryable, req.query, req.startMs, req.endMs, req.stepMs, signal),
      );
      return response(r);
    }),
    series: unary(async (req: SeriesQueryRequest) => {
      if (req.match.length === 0) throw new BadRequest('no match[] parameter provided');
      const sets = selectors(req.match);
      const seen = await limiter.run(undefined, async (signal) => {
        const byKey = new Map<string, Labels>();
        for (const m of sets) {
          for (const ls of await queryable.series(m, req.startMs ?? -Infinity, req.endMs ?? Infinity, signal))
            byKey.set(labelsKey(ls), ls);
        }
        return byKey;
      });
      return { series: [...seen.values()].map((ls) => ({ labels: labelsOut(ls), hash: '' })) };
    }),
    labelNames: unary(async (req: LabelsQueryRequest) => {
      const sets = req.match.length > 0 ? selectors(req.match) : [[]];
      const names = await limiter.run(undefined, async (signal) => {
        const found = new Set<string>();
        for (const m of sets)
          for (const n of await queryable.labelNames(
            m,
            req.startMs ?? -Infinity,
            req.endMs ?? Infinity,
            signal,
          ))
            found.add(n);
        return found;
      });
      return { names: [...names].sort() };
    }),
    labelValues: unary(async (req: LabelValuesQueryRequest) => {
      const sets = req.match.length > 0 ? selectors(req.match) : [[]];
      const values = await limiter.run(undefined, async (signal) => {
        const found = new Set<string>();
        for (const m of sets) {
          for (const v of await queryable.labelValues(
            req.name,
            m,
            req.startMs ?? -Infinity,
            req.endMs ?? Infinity,
            signal,
          ))
            found.add(v);
        }
        return found;
      });
      return { values: [...values].sort() };
    }),
  });
}
