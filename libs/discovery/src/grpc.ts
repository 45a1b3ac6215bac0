import {
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ChannelOptions,
  type Server,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { Labels } from '@pharos/model';
import {
  DiscoveryClient,
  DiscoveryService,
  labelsToProto,
  type Label as ProtoLabel,
  type SubscribeRequest,
  type TargetSet,
} from '@pharos/proto';
import type { Assignment, PoolTarget, TargetDistributor } from './distributor.js';
import { pause } from './refresh.js';

function toTargetSet(a: Assignment): TargetSet {
  return {
    targets: a.targets.map((t) => ({
      scrapePool: t.scrapePool,
      labels: labelsToProto(t.labels),
      discoveredLabels: labelsToProto(t.discoveredLabels),
    })),
    scrapePools: [...a.scrapePools],
    generation: a.generation,
    members: a.members,
  };
}

const fromProto = (ls: readonly ProtoLabel[]): Labels => ls.map((l) => ({ name: l.name, value: l.value }));

/** A target as a scraper receives it: relabeled, with its pool. */
export type ReceivedTarget = Omit<PoolTarget, 'key'>;

export interface ReceivedAssignment {
  readonly targets: readonly ReceivedTarget[];
  readonly scrapePools: readonly string[];
  readonly generation: number;
  readonly members: number;
}

/** Serves Discovery.Subscribe: each open stream is one live scraper on the ring. */
export function addDiscoveryService(server: Server, distributor: TargetDistributor): void {
  server.addService(DiscoveryService, {
    subscribe: (call: ServerWritableStream<SubscribeRequest, TargetSet>) => {
      const id = call.request.scraperId;
      if (id === '') {
        call.emit('error', {
          code: status.INVALID_ARGUMENT,
          details: 'scraper_id is required',
          metadata: new Metadata(),
        });
        return;
      }
      const unsubscribe = distributor.subscribe({ id, send: (a) => call.write(toTargetSet(a)) });
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
      call.on('error', unsubscribe);
    },
  });
}

export interface SubscriptionOptions {
  onError?(message: string): void;
  /** --grpc.client-config.file's TLS and credentials; plaintext without. */
  readonly channel?: { readonly credentials: ChannelCredentials; readonly options: ChannelOptions };
}

/**
 * A scraper's side: subscribes to the discovery role and hands every assignment to `onAssignment`;
 * re-subscribes after a pause when the stream breaks, keeping the last assignment meanwhile.
 */
export function subscribeTargets(
  address: string,
  scraperId: string,
  onAssignment: (a: ReceivedAssignment) => void,
  hooks: SubscriptionOptions = {},
  retryMs = 1_000,
): { close(): void } {
  const channel = hooks.channel;
  const client = new DiscoveryClient(
    address,
    channel?.credentials ?? credentials.createInsecure(),
    channel?.options ?? {},
  );
  const stop = new AbortController();
  const run = async () => {
    while (!stop.signal.aborted) {
      await new Promise<void>((resolve) => {
        const call = client.subscribe({ scraperId });
        const end = () => resolve();
        stop.signal.addEventListener('abort', () => call.cancel(), { once: true });
        call.on('data', (set: TargetSet) =>
          onAssignment({
            targets: set.targets.map((t) => ({
              scrapePool: t.scrapePool,
              labels: fromProto(t.labels),
              discoveredLabels: fromProto(t.discoveredLabels),
            })),
            scrapePools: set.scrapePools,
            generation: set.generation,
            members: set.members,
          }),
        );
        call.on('error', (e: Error & { code?: number }) => {
          if (e.code !== status.CANCELLED) hooks.onError?.(`discovery subscription failed: ${e.message}`);
          end();
        });
        call.on('end', end);
      });
      if (!(await pause(retryMs, stop.signal))) break;
    }
  };
  void run();
  return {
    close: () => {
      stop.abort();
      client.close();
    },
  };
}
