import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { SampleBatch } from '@pharos/model';
import {
  decodeReadRequest,
  decodeWriteRequest,
  encodeReadResponse,
  RemoteProtocolError,
  snappyDecode,
  snappyEncode,
} from '@pharos/remote';
import type { Queryable } from '@pharos/tsdb';

export interface RemoteDeps {
  /** Absent where there is nothing to read (a scraper's gateway): /api/v1/read is then not served. */
  readonly queryable?: Queryable;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Present when the receiver is enabled: makes a batch durable (the write path) or throws. */
  readonly remoteWrite?: (batch: SampleBatch) => Promise<void>;
  /** --remote-write.max-samples-per-request: larger requests are refused before the write path. */
  readonly maxSamplesPerRequest?: number;
}

export const DEFAULT_MAX_SAMPLES_PER_REQUEST = 1_000_000;

/** A decompressed body may not exceed this (Prometheus sends batches of a few MiB at most). */
const MAX_DECOMPRESSED = 64 * 1024 * 1024;
const SAMPLES_RESPONSE = 1;
const STREAMED_XOR_CHUNKS = 2;

function text(reply: FastifyReply, status: number, msg: string) {
  return reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(`${msg}\n`);
}

/** Prometheus' remote write receiver (1.0) and remote read endpoint (sampled response). */
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

  app.post('/api/v1/write', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!deps.remoteWrite) {
      return text(
        reply,
        404,
        'remote write receiver needs to be enabled with --web.enable-remote-write-receiver',
      );
    }
    const body = req.body;
    if (!(body instanceof Buffer)) {
      rejected.inc({ reason: 'content_type' });
      return text(
        reply,
        415,
        `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: want application/x-protobuf`,
      );
    }
    let decoded;
    try {
      decoded = decodeWriteRequest(snappyDecode(body, MAX_DECOMPRESSED));
    } catch (e) {
      if (!(e instanceof RemoteProtocolError)) throw e;
      rejected.inc({ reason: 'malformed' });
      deps.logger.warn({ err: e.message, remote: req.ip }, 'rejected remote write request');
      return text(reply, 400, e.message);
    }
    const max = deps.maxSamplesPerRequest ?? DEFAULT_MAX_SAMPLES_PER_REQUEST;
    const n = decoded.batch.refs.length;
    if (n > max) {
      // A 4xx: the sender drops the request instead of retrying one that can never fit; it should
      // lower its queue_config.max_samples_per_send.
      rejected.inc({ reason: 'too_many_samples' });
      deps.logger.warn({ samples: n, limit: max, remote: req.ip }, 'rejected remote write request');
      return text(reply, 400, `too many samples in one request: ${n}, the limit is ${max}`);
    }
    if (decoded.histograms > 0) dropped.inc({ kind: 'histogram' }, decoded.histograms);
    if (decoded.exemplars > 0) dropped.inc({ kind: 'exemplar' }, decoded.exemplars);
    if (decoded.batch.refs.length > 0) {
      try {
        await deps.remoteWrite(decoded.batch);
      } catch (e) {
        // The sender retries a 5xx: nothing is lost while the write path is unavailable.
        rejected.inc({ reason: 'unavailable' });
        deps.logger.error({ err: e }, 'write path unavailable for remote write');
        return text(reply, 503, `write path unavailable: ${(e as Error).message}`);
      }
      samples.inc(decoded.batch.refs.length);
    }
    return reply.code(204).send();
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
    const results = await Promise.all(
      request.queries.map((q) => queryable.select(q.matchers, q.startMs, q.endMs)),
    );
    const payload = snappyEncode(encodeReadResponse(results));
    return reply
      .code(200)
      .header('content-type', 'application/x-protobuf')
      .header('content-encoding', 'snappy')
      .send(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  });
}
