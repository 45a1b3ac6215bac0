import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { formatLabels, MAX_AHEAD_MS, TimeSlice, type SampleBatch } from '@pharos/model';
import {
  decodeReadRequest,
  decodeWriteRequestSliced,
  encodeReadResponse,
  RemoteProtocolError,
  snappyDecode,
  snappyEncode,
} from '@pharos/remote';
import { QueryError } from '@pharos/promql';
import { emptyAppendResult, rejectedSamples, type AppendResult, type Queryable } from '@pharos/tsdb';

export interface RemoteDeps {
  /** Absent where there is nothing to read (a scraper's gateway): /api/v1/read is then not served. */
  readonly queryable?: Queryable;
  readonly logger: Logger;
  readonly registry: Registry;
  /**
   * Present when the receiver is enabled: makes a batch durable (the write path) and says what
   * storage refused of it, or throws when the write path is unavailable.
   */
  readonly remoteWrite?: (batch: SampleBatch) => Promise<AppendResult>;
  /** --remote-write.max-samples-per-request: larger requests are refused before the write path. */
  readonly maxSamplesPerRequest?: number;
  /** Runs a read as a query: a --query.max-concurrency slot, the query timeout as its signal. */
  readonly limited?: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

export const DEFAULT_MAX_SAMPLES_PER_REQUEST = 1_000_000;

/**
 * A decompressed body may not exceed this, upstream's maxDecodedSize: the snappy preamble says
 * the size, so a bomb is refused before anything is decoded (Prometheus sends a few MiB at most).
 */
const MAX_DECOMPRESSED = 32 * 1024 * 1024;
const SAMPLES_RESPONSE = 1;
const STREAMED_XOR_CHUNKS = 2;

const PROTOBUF = 'application/x-protobuf';
const WRITE_V1 = 'prometheus.WriteRequest';
const WRITE_V2 = 'io.prometheus.write.v2.Request';

/** Only snappy, as client_golang's receiver (upstream's) takes. */
function refuseEncoding(encoding: string | undefined): string | undefined {
  if (encoding === undefined || encoding === '' || encoding === 'snappy') return undefined;
  return `${encoding} encoding (compression) is not accepted by this server; only snappy is acceptable`;
}

/**
 * The protobuf message a Content-Type names, read as upstream's ParseProtoMsg reads it: none at
 * all is 1.0, and so is a `proto=` left out. Remote write 2.0 is refused with 415 until it is
 * stored, so a sender falls back to 1.0 (senders fall back on 415 only).
 */
function refuseMessage(contentType: string | undefined): string | undefined {
  const ct = (contentType ?? PROTOBUF).trim() || PROTOBUF;
  const parts = ct.split(';');
  if (parts[0] !== PROTOBUF) return `expected ${PROTOBUF} as the first (media) part, got ${ct} content-type`;
  for (const p of parts.slice(1)) {
    const pair = p.split('=');
    if (pair.length !== 2)
      return `as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got ${p} in ${ct} content-type`;
    if (pair[0] !== 'proto') continue;
    if (pair[1] === WRITE_V1) return undefined;
    if (pair[1] === WRITE_V2)
      return `${WRITE_V2} protobuf message is not accepted by this server; only accepts ${WRITE_V1}`;
    return `got ${ct} content type; unknown type for remote write protobuf message ${pair[1]}, supported: ${WRITE_V1}, ${WRITE_V2}`;
  }
  return undefined;
}

/** The series of the first sample timestamped after `maxT`, if any. */
function firstTooFarAhead(batch: SampleBatch, maxT: number): string | undefined {
  for (let i = 0; i < batch.timestamps.length; i++)
    if (batch.timestamps[i] > maxT) return formatLabels(batch.series[batch.refs[i]]);
  return undefined;
}

function text(reply: FastifyReply, status: number, msg: string) {
  return reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(`${msg}\n`);
}

/** Prometheus' remote write receiver (1.0; 2.0 refused with 415) and remote read endpoint (sampled response). */
export function registerRemoteRoutes(app: FastifyInstance, deps: RemoteDeps): void {
  const samples = new Counter({
    name: 'pharos_remote_write_samples_total',
    help: 'Float samples received through remote write and handed to the write path.',
    registers: [deps.registry],
  });
  const dropped = new Counter({
    name: 'pharos_remote_write_dropped_total',
    help: 'Parts of remote write requests not stored, by kind (native histograms are not supported yet).',
    labelNames: ['kind'],
    registers: [deps.registry],
  });
  const rejected = new Counter({
    name: 'pharos_remote_write_rejected_requests_total',
    help: 'Remote write requests refused, by reason.',
    labelNames: ['reason'],
    registers: [deps.registry],
  });

  app.addContentTypeParser(
    ['application/x-protobuf', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );

  // In a scope of its own that takes every body as bytes: the content type is the handler's to
  // judge as upstream does (none at all is remote write 1.0), not a parser's to refuse first.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/api/v1/write', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!deps.remoteWrite) {
        return text(
          reply,
          404,
          'remote write receiver needs to be enabled with --web.enable-remote-write-receiver',
        );
      }
      const refusal =
        refuseEncoding(req.headers['content-encoding']) ?? refuseMessage(req.headers['content-type']);
      if (refusal !== undefined) {
        rejected.inc({ reason: 'content_type' });
        return text(reply, 415, refusal);
      }
      const body = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
      let decoded;
      try {
        decoded = await decodeWriteRequestSliced(snappyDecode(body, MAX_DECOMPRESSED), new TimeSlice());
      } catch (e) {
        if (!(e instanceof RemoteProtocolError)) throw e;
        rejected.inc({ reason: 'malformed' });
        deps.logger.warn({ err: e.message, remote: req.ip }, 'rejected remote write request');
        return text(reply, 400, e.message);
      }
      const max = deps.maxSamplesPerRequest ?? DEFAULT_MAX_SAMPLES_PER_REQUEST;
      const { batch } = decoded;
      const n = batch.refs.length;
      if (n > max) {
        // A 4xx: the sender drops the request instead of retrying one that can never fit; it should
        // lower its queue_config.max_samples_per_send.
        rejected.inc({ reason: 'too_many_samples' });
        deps.logger.warn({ samples: n, limit: max, remote: req.ip }, 'rejected remote write request');
        return text(reply, 400, `too many samples in one request: ${n}, the limit is ${max}`);
      }
      // As upstream: a timestamp too far ahead refuses the whole request, nothing of it stored.
      const future = firstTooFarAhead(batch, Date.now() + MAX_AHEAD_MS);
      if (future !== undefined) {
        rejected.inc({ reason: 'out_of_bounds' });
        return text(reply, 400, `out of bounds: timestamp is too far in the future for series ${future}`);
      }
      if (decoded.exemplars > 0) dropped.inc({ kind: 'exemplar' }, decoded.exemplars);
      let result = emptyAppendResult();
      if (n > 0) {
        try {
          result = await deps.remoteWrite(batch);
        } catch (e) {
          // The sender retries a 5xx, and an identical resend is taken silently: nothing is lost
          // while the write path is unavailable, nor stored twice.
          rejected.inc({ reason: 'unavailable' });
          deps.logger.error({ err: e }, 'write path unavailable for remote write');
          return text(reply, 503, `write path unavailable: ${(e as Error).message}`);
        }
      }
      const refused = rejectedSamples(result);
      samples.inc(n - refused);
      if (refused === 0 && decoded.histograms === 0) return reply.code(204).send();
      // A 4xx, so the sender does not resend what can never be stored; the rest is stored.
      const reasons: string[] = [];
      if (refused > 0) {
        rejected.inc({ reason: 'samples_refused' });
        reasons.push(
          `${result.firstError ?? 'samples refused'} (${refused} of ${n} samples refused, the others stored)`,
        );
      }
      if (decoded.histograms > 0) {
        dropped.inc({ kind: 'histogram' }, decoded.histograms);
        reasons.push(
          `native histograms are not supported yet: ${decoded.histograms} histogram samples refused`,
        );
      }
      deps.logger.warn({ remote: req.ip, reason: reasons.join('; ') }, 'remote write samples refused');
      return text(reply, 400, reasons.join('; '));
    });
  });

  const queryable = deps.queryable;
  if (!queryable) return;
  app.post('/api/v1/read', async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body;
    if (!(body instanceof Buffer)) return text(reply, 415, 'want a snappy-compressed protobuf ReadRequest');
    let request;
    try {
      request = decodeReadRequest(snappyDecode(body, MAX_DECOMPRESSED));
    } catch (e) {
      if (!(e instanceof RemoteProtocolError)) throw e;
      return text(reply, 400, e.message);
    }
    const types = request.acceptedResponseTypes;
    if (types.length > 0 && !types.includes(SAMPLES_RESPONSE)) {
      const streamed = types.includes(STREAMED_XOR_CHUNKS);
      return text(
        reply,
        400,
        `unsupported response types ${JSON.stringify(types)}${streamed ? ': streamed chunks are not supported, accept SAMPLES' : ''}`,
      );
    }
    const read = (signal?: AbortSignal) =>
      Promise.all(request.queries.map((q) => queryable.select(q.matchers, q.startMs, q.endMs, signal)));
    let results;
    try {
      results = await (deps.limited ? deps.limited(read) : read());
    } catch (e) {
      if (e instanceof QueryError && e.kind === 'timeout') return text(reply, 503, e.message);
      throw e;
    }
    const payload = snappyEncode(encodeReadResponse(results));
    return reply
      .code(200)
      .header('content-type', 'application/x-protobuf')
      .header('content-encoding', 'snappy')
      .send(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  });
}
