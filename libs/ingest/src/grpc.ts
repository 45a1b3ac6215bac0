import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { LabelMatcher, type Labels, type MatchType, type SampleBatch } from '@pharos/model';
import {
  IngesterClient as GeneratedClient,
  IngesterService,
  labelsToProto,
  MatchType as ProtoMatchType,
  sampleBatchFromProto,
  sampleBatchToProto,
  type Label as ProtoLabel,
  type DeleteSeriesRequest,
  type LabelNamesRequest,
  type LabelValuesRequest,
  type PushRequest,
  type PushResponse,
  type WriteResultRequest,
  type SeriesRequest,
  type LabelMatcher as ProtoMatcher,
  type SelectRequest,
  type SelectResponse,
  type SnapshotRequest,
  type StatusResponse,
  type TimeRange,
} from '@pharos/proto';
import { insecureChannel, type GrpcChannelSecurity } from '@pharos/transport';
import {
  isSnapshotName,
  XorIterator,
  type AppendResult,
  type DeleteResult,
  type Queryable,
  type SeriesData,
  type StorageStatus,
} from '@pharos/tsdb';

/** What an ingester answers for: its shards' storage plus the durable write path. */
export interface IngesterBackend extends Queryable {
  /** Where this process has a write path (the embedded receiver); without it Push is unimplemented. */
  push?(batch: SampleBatch): Promise<AppendResult>;
  /** What storage made of a record of the sample topic (Ingester.resultOf); WriteResult's answer. */
  resultOf?(partition: number, offset: number): Promise<AppendResult>;
  selectChunks(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<Array<{ labels: Labels; chunks: Uint8Array[] }>>;
  /** The admin API's work on this ingester's shards; without it the admin calls are unimplemented. */
  readonly admin?: IngesterAdmin;
  /** Each owned partition's head statistics, for the querier's /api/v1/status/tsdb. */
  partitionStatus?(): Array<{ partition: number; status: StorageStatus }>;
}

/** One partition's head statistics as an ingester reports them; an empty head has no times. */
export interface PartitionHeadStatus {
  readonly partition: number;
  readonly status: StorageStatus;
}

function statusToProto(parts: ReadonlyArray<PartitionHeadStatus>): StatusResponse {
  return {
    partitions: parts.map(({ partition, status: st }) => ({
      partition,
      numSeries: st.numSeries,
      chunkCount: st.chunkCount,
      minTimeMs: st.numSeries > 0 && Number.isFinite(st.minTime) ? st.minTime : 0,
      maxTimeMs: st.numSeries > 0 && Number.isFinite(st.maxTime) ? st.maxTime : 0,
      pairs: st.pairs.map(([name, value, series]) => ({ name, value, series })),
    })),
  };
}

function statusFromProto(r: StatusResponse): PartitionHeadStatus[] {
  return r.partitions.map((p) => ({
    partition: p.partition,
    status: {
      numSeries: p.numSeries,
      chunkCount: p.chunkCount,
      minTime: p.numSeries > 0 ? p.minTimeMs : Infinity,
      maxTime: p.numSeries > 0 ? p.maxTimeMs : -Infinity,
      pairs: p.pairs.map((x): [string, string, number] => [x.name, x.value, x.series]),
    },
  }));
}

export interface IngesterAdmin {
  /** Removes the samples between mint and maxt of series matching any of the sets. */
  deleteSeries(sets: readonly LabelMatcher[][], mint: number, maxt: number): Promise<DeleteResult>;
  /** Writes a snapshot of every shard to `<storage>/snapshots/<name>`. */
  snapshot(name: string, withHead: boolean): Promise<void>;
}

/**
 * An ingester's backend: writes go through the ingester (and its log), reads to the shards. Push
 * is served only with `push` set, where the process has a write path enabled.
 */
export function ingesterBackend(
  ingester: {
    push(batch: SampleBatch): Promise<AppendResult>;
    resultOf(partition: number, offset: number): Promise<AppendResult>;
  },
  store: Omit<IngesterBackend, 'push' | 'resultOf'>,
  opts: { push: boolean },
): IngesterBackend {
  return {
    ...(opts.push ? { push: (b: SampleBatch) => ingester.push(b) } : {}),
    resultOf: (p, o) => ingester.resultOf(p, o),
    select: (m, mint, maxt, signal) => store.select(m, mint, maxt, signal),
    selectChunks: (m, mint, maxt, signal) => store.selectChunks(m, mint, maxt, signal),
    ...(store.partitionStatus ? { partitionStatus: () => store.partitionStatus?.() ?? [] } : {}),
    series: (m, mint, maxt, signal) => store.series(m, mint, maxt, signal),
    labelNames: (m, mint, maxt, signal) => store.labelNames(m, mint, maxt, signal),
    labelValues: (n, m, mint, maxt, signal) => store.labelValues(n, m, mint, maxt, signal),
  };
}

const TO_MODEL: Record<ProtoMatchType, MatchType> = {
  [ProtoMatchType.EQUAL]: '=',
  [ProtoMatchType.NOT_EQUAL]: '!=',
  [ProtoMatchType.REGEX_MATCH]: '=~',
  [ProtoMatchType.REGEX_NO_MATCH]: '!~',
  [ProtoMatchType.UNRECOGNIZED]: '=',
};
const TO_PROTO: Record<MatchType, ProtoMatchType> = {
  '=': ProtoMatchType.EQUAL,
  '!=': ProtoMatchType.NOT_EQUAL,
  '=~': ProtoMatchType.REGEX_MATCH,
  '!~': ProtoMatchType.REGEX_NO_MATCH,
};

/** Series per Select frame: keeps each message well under gRPC's 4 MiB default. */
const SERIES_PER_FRAME = 256;

class BadRequest extends Error {}
class Unimplemented extends Error {}

/** Asked about a partition this ingester does not own: another one answers for it. */
export class PartitionNotOwned extends Error {}

/** A failed call to an ingester, with the gRPC status it failed with. */
export class IngesterCallError extends Error {
  constructor(
    message: string,
    readonly code: status,
  ) {
    super(message);
  }
}

function appendResultToProto(r: AppendResult): PushResponse {
  return {
    appended: r.appended,
    outOfOrder: r.outOfOrder,
    duplicate: r.duplicate,
    invalid: r.invalid,
    outOfBounds: r.outOfBounds,
    tooOld: r.tooOld,
    firstError: r.firstError ?? '',
  };
}

function appendResultFromProto(r: PushResponse): AppendResult {
  return {
    appended: r.appended,
    outOfOrder: r.outOfOrder,
    duplicate: r.duplicate,
    invalid: r.invalid,
    outOfBounds: r.outOfBounds,
    tooOld: r.tooOld,
    firstError: r.firstError === '' ? undefined : r.firstError,
  };
}

function matchersFromProto(ms: readonly ProtoMatcher[]): LabelMatcher[] {
  return ms.map((m) => {
    if (m.type === ProtoMatchType.UNRECOGNIZED) throw new BadRequest(`unknown match type for ${m.name}`);
    try {
      return new LabelMatcher(TO_MODEL[m.type], m.name, m.value);
    } catch (e) {
      throw new BadRequest(`invalid matcher ${m.name}: ${(e as Error).message}`);
    }
  });
}

function matchersToProto(ms: readonly LabelMatcher[]): ProtoMatcher[] {
  return ms.map((m) => ({ type: TO_PROTO[m.type], name: m.name, value: m.value }));
}

function rangeFromProto(r: TimeRange | undefined): [number, number] {
  return [r?.startMs ?? -Infinity, r?.endMs ?? Infinity];
}

function rangeToProto(mint: number, maxt: number): TimeRange {
  return {
    startMs: Number.isFinite(mint) ? mint : undefined,
    endMs: Number.isFinite(maxt) ? maxt : undefined,
  };
}

function labelsFromProto(ls: readonly ProtoLabel[]): Labels {
  return ls.map((l) => ({ name: l.name, value: l.value }));
}

function toServiceError(e: unknown): Partial<ServiceError> {
  const message = e instanceof Error ? e.message : String(e);
  return {
    code:
      e instanceof BadRequest
        ? status.INVALID_ARGUMENT
        : e instanceof Unimplemented
          ? status.UNIMPLEMENTED
          : e instanceof PartitionNotOwned
            ? status.FAILED_PRECONDITION
            : status.INTERNAL,
    message,
    details: message,
  };
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (e: unknown) => callback(toServiceError(e)),
    );
  };
}

/** Serves an ingester's backend as the pharos.v1.Ingester gRPC service (on a new server by default). */
export function createIngesterServer(backend: IngesterBackend, server: Server = new Server()): Server {
  server.addService(IngesterService, {
    push: unary(async (req: PushRequest) => {
      if (!backend.push)
        throw new Unimplemented(
          'this process takes no writes over gRPC: push to a remote write receiver (--web.enable-remote-write-receiver)',
        );
      if (!req.batch) throw new BadRequest('push without a batch');
      let batch: SampleBatch;
      try {
        batch = sampleBatchFromProto(req.batch);
      } catch (e) {
        throw new BadRequest((e as Error).message);
      }
      return appendResultToProto(await backend.push(batch));
    }),
    writeResult: unary(async (req: WriteResultRequest) => {
      if (!backend.resultOf) throw new Unimplemented('this ingester does not report write results');
      return appendResultToProto(await backend.resultOf(req.partition, req.offset));
    }),
    select: (call: ServerWritableStream<SelectRequest, SelectResponse>) => {
      // A querier that gave up (its query timed out) cancels the call: the read stops too.
      const cancelled = new AbortController();
      call.once('cancelled', () => cancelled.abort(new Error('select cancelled by the querier')));
      (async () => {
        const [mint, maxt] = rangeFromProto(call.request.range);
        const series = await backend.selectChunks(
          matchersFromProto(call.request.matchers),
          mint,
          maxt,
          cancelled.signal,
        );
        for (let i = 0; i < series.length && !call.cancelled; i += SERIES_PER_FRAME) {
          const frame: SelectResponse = {
            series: series.slice(i, i + SERIES_PER_FRAME).map((s) => ({
              labels: labelsToProto(s.labels),
              chunks: s.chunks.map((data) => chunkBounds(data)),
            })),
          };
          // Respect flow control: wait for the stream to drain before the next frame.
          if (!call.write(frame)) await new Promise((resolve) => call.once('drain', resolve));
        }
        call.end();
      })().catch((e: unknown) => call.emit('error', toServiceError(e)));
    },
    labelNames: unary(async (req: LabelNamesRequest) => {
      const [mint, maxt] = rangeFromProto(req.range);
      return { names: await backend.labelNames(matchersFromProto(req.matchers), mint, maxt) };
    }),
    labelValues: unary(async (req: LabelValuesRequest) => {
      const [mint, maxt] = rangeFromProto(req.range);
      return { values: await backend.labelValues(req.name, matchersFromProto(req.matchers), mint, maxt) };
    }),
    series: unary(async (req: SeriesRequest) => {
      const [mint, maxt] = rangeFromProto(req.range);
      const found = await backend.series(matchersFromProto(req.matchers), mint, maxt);
      return { series: found.map((ls) => ({ labels: labelsToProto(ls), hash: '' })) };
    }),
    deleteSeries: unary(async (req: DeleteSeriesRequest) => {
      const sets = req.sets.map((s) => matchersFromProto(s.matchers));
      if (sets.length === 0 || sets.some((s) => s.length === 0))
        throw new BadRequest('no matchers to delete by');
      const [mint, maxt] = rangeFromProto(req.range);
      const r = await adminOf(backend).deleteSeries(sets, mint, maxt);
      return { deletedSeries: r.deletedSeries, deletedSamples: r.deletedSamples };
    }),
    snapshot: unary(async (req: SnapshotRequest) => {
      // The name becomes a directory: nothing that could climb out of snapshots/.
      if (!isSnapshotName(req.name))
        throw new BadRequest(`invalid snapshot name ${JSON.stringify(req.name)}`);
      await adminOf(backend).snapshot(req.name, !req.skipHead);
      return {};
    }),
    status: unary(async () => {
      if (!backend.partitionStatus)
        throw new Unimplemented('this ingester does not report its head statistics');
      return statusToProto(backend.partitionStatus());
    }),
  });
  return server;
}

function adminOf(backend: IngesterBackend): IngesterAdmin {
  if (!backend.admin) throw new Unimplemented('this ingester does not serve admin calls');
  return backend.admin;
}

function chunkBounds(data: Uint8Array) {
  const it = new XorIterator(data);
  let min = 0;
  let max = 0;
  let first = true;
  while (it.next()) {
    if (first) min = it.t;
    first = false;
    max = it.t;
  }
  return { minTimeMs: min, maxTimeMs: max, encoding: 0, data };
}

/** Binds a gRPC server and resolves with the port (0 picks a free one). */
export function listenGrpc(
  server: Server,
  address: string,
  creds = ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/**
 * The querier's view of a remote ingester: the same Queryable the embedded mode calls directly.
 * Select decodes the streamed chunks into the engine's arrays.
 */
export class IngesterGrpcClient implements Queryable {
  private readonly client: InstanceType<typeof GeneratedClient>;

  constructor(
    address: string,
    channel: GrpcChannelSecurity = insecureChannel(),
    private readonly deadlineMs = 120_000,
  ) {
    this.client = new GeneratedClient(address, channel.credentials, {
      ...channel.options,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  private deadline(): Date {
    return new Date(Date.now() + this.deadlineMs);
  }

  private call<Req, Res>(
    method: (
      req: Req,
      md: Metadata,
      opts: { deadline: Date },
      cb: (err: ServiceError | null, res: Res) => void,
    ) => unknown,
    req: Req,
  ): Promise<Res> {
    return new Promise((resolve, reject) =>
      method.call(
        this.client,
        req,
        new Metadata(),
        { deadline: this.deadline() },
        (err: ServiceError | null, res: Res) =>
          err
            ? reject(new IngesterCallError(`ingester: ${err.details || err.message}`, err.code))
            : resolve(res),
      ),
    );
  }

  async push(batch: SampleBatch): Promise<AppendResult> {
    return appendResultFromProto(await this.call(this.client.push, { batch: sampleBatchToProto(batch) }));
  }

  /** What the ingester's storage made of a record; rejects with FAILED_PRECONDITION where it is not the owner. */
  async writeResult(partition: number, offset: number): Promise<AppendResult> {
    return appendResultFromProto(await this.call(this.client.writeResult, { partition, offset }));
  }

  select(
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
  ): Promise<SeriesData[]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const out: SeriesData[] = [];
      const stream = this.client.select(
        { matchers: matchersToProto(matchers), range: rangeToProto(mint, maxt) },
        { deadline: this.deadline() },
      );
      // The ingester stops streaming when the call is cancelled: a timed-out query stops its fan-out.
      const abort = () => {
        stream.cancel();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
      stream.on('close', () => signal?.removeEventListener('abort', abort));
      stream.on('data', (frame: SelectResponse) => {
        for (const s of frame.series) {
          let n = 0;
          for (const c of s.chunks) n += (c.data[0] << 8) | c.data[1];
          const timestamps = new Float64Array(n);
          const values = new Float64Array(n);
          let i = 0;
          for (const c of s.chunks) {
            const it = new XorIterator(c.data);
            while (it.next() && i < n) {
              timestamps[i] = it.t;
              values[i] = it.v;
              i++;
            }
          }
          out.push({ labels: labelsFromProto(s.labels), timestamps, values });
        }
      });
      stream.on('error', (err: ServiceError) => reject(new Error(`ingester: ${err.details || err.message}`)));
      stream.on('end', () => resolve(out));
    });
  }

  async series(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<Labels[]> {
    const r = await this.call(this.client.series, {
      matchers: matchersToProto(matchers),
      range: rangeToProto(mint, maxt),
    });
    return r.series.map((s) => labelsFromProto(s.labels));
  }

  async labelNames(matchers: readonly LabelMatcher[], mint: number, maxt: number): Promise<string[]> {
    const r = await this.call(this.client.labelNames, {
      matchers: matchersToProto(matchers),
      range: rangeToProto(mint, maxt),
    });
    return r.names;
  }

  async labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    mint: number,
    maxt: number,
  ): Promise<string[]> {
    const r = await this.call(this.client.labelValues, {
      name,
      matchers: matchersToProto(matchers),
      range: rangeToProto(mint, maxt),
    });
    return r.values;
  }

  async deleteSeries(sets: readonly LabelMatcher[][], mint: number, maxt: number): Promise<DeleteResult> {
    const r = await this.call(this.client.deleteSeries, {
      sets: sets.map((ms) => ({ matchers: matchersToProto(ms) })),
      range: rangeToProto(mint, maxt),
    });
    return { deletedSeries: r.deletedSeries, deletedSamples: r.deletedSamples };
  }

  async snapshot(name: string, skipHead: boolean): Promise<void> {
    await this.call(this.client.snapshot, { name, skipHead });
  }

  async status(): Promise<PartitionHeadStatus[]> {
    return statusFromProto(await this.call(this.client.status, {}));
  }

  close(): void {
    this.client.close();
  }
}
