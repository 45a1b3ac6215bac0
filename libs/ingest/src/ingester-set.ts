import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { watchMembers } from '@pharos/discovery';
import type { LabelMatcher } from '@pharos/model';
import {
  FanoutQueryable,
  mergeStatus,
  snapshotName,
  type AppendResult,
  type StorageStatus,
} from '@pharos/tsdb';
import type { GrpcChannelSecurity } from '@pharos/transport';
import { status } from '@grpc/grpc-js';
import { IngesterCallError, IngesterGrpcClient } from './grpc.js';

export interface IngesterSetOptions {
  /** Fixed ingester gRPC addresses (--ingester.addresses). */
  readonly addresses: readonly string[];
  /** Or follow the healthy `pharos-ingester` instances in this Consul. */
  readonly consul?: string;
  /** Partitions of the sample topic, to report those no ingester announces. */
  readonly partitions: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** The role's name in the gauge of unowned partitions (pharos_<role>_partitions_without_ingester). */
  readonly role: string;
  /** --grpc.client-config.file's TLS and credentials; plaintext without. */
  readonly channel?: GrpcChannelSecurity;
}

/** The admin API's actions over every ingester (the shape of the HTTP API's AdminActions). */
export interface IngesterSetAdmin {
  deleteSeries(sets: LabelMatcher[][], start: number, end: number): Promise<void>;
  /** Every ingester writes a snapshot of its shards under the same name, which is returned. */
  snapshot(skipHead: boolean): Promise<string>;
}

/**
 * Every ingester as one Queryable: the querier's and the ruler's view of storage. Members come
 * from the flag or from Consul, where ingesters announce the partitions they own.
 */
export function ingesterSet(opts: IngesterSetOptions): {
  queryable: FanoutQueryable;
  admin: IngesterSetAdmin;
  resultOf: (partition: number, offset: number) => Promise<AppendResult>;
  tsdbStatus: () => Promise<{ status: StorageStatus; warnings: string[] }>;
  close: () => void;
} {
  const clients = new Map<string, IngesterGrpcClient>();
  /** Partitions each member announces in Consul; with fixed addresses ownership is not known. */
  const announced = new Map<string, ReadonlySet<number>>();
  const queryable = new FanoutQueryable([]);
  const use = (addresses: readonly string[]) => {
    for (const a of addresses) if (!clients.has(a)) clients.set(a, new IngesterGrpcClient(a, opts.channel));
    for (const [a, c] of clients) {
      if (addresses.includes(a)) continue;
      c.close();
      clients.delete(a);
    }
    queryable.setStores([...clients.values()]);
  };
  use(opts.addresses);
  let watch: { close: () => void } | undefined;
  const consul = opts.consul;
  if (consul) {
    let unowned = opts.partitions;
    new Gauge({
      name: `pharos_${opts.role}_partitions_without_ingester`,
      help: 'Partitions of the sample topic that no healthy ingester announces: their series are missing from answers.',
      registers: [opts.registry],
      collect() {
        this.set(unowned);
      },
    });
    watch = watchMembers(
      consul,
      'pharos-ingester',
      (members) => {
        use(members.map((m) => m.address));
        announced.clear();
        for (const m of members)
          announced.set(
            m.address,
            new Set(
              (m.meta.partitions ?? '')
                .split(',')
                .filter((p) => p !== '')
                .map(Number),
            ),
          );
        const owned = new Set(
          members.flatMap((m) => (m.meta.partitions ?? '').split(',').filter((p) => p !== '')),
        );
        unowned = Array.from({ length: opts.partitions }, (_, p) => p).filter(
          (p) => !owned.has(String(p)),
        ).length;
        opts.logger.info(
          { ingesters: members.map((m) => m.address), unownedPartitions: unowned },
          'ingesters changed',
        );
      },
      (message) => opts.logger.warn({ consul }, message),
    );
  }
  // Every member, not one per partition: replicas of a partition each hold a copy to change.
  const everyIngester = async (what: string, fn: (c: IngesterGrpcClient) => Promise<unknown>) => {
    const members = [...clients];
    if (members.length === 0) throw new Error(`${what}: no ingesters known`);
    const results = await Promise.allSettled(members.map(([, c]) => fn(c)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${members[i][0]}: ${(r.reason as Error).message}`] : [],
    );
    if (failed.length > 0) {
      throw new Error(
        `${what} failed on ${failed.length} of ${members.length} ingesters: ${failed.join('; ')}`,
      );
    }
  };
  const admin: IngesterSetAdmin = {
    deleteSeries: async (sets, start, end) => {
      await everyIngester('delete_series', (c) => c.deleteSeries(sets, start, end));
      opts.logger.info({ matchers: sets.map((ms) => ms.map(String)), start, end }, 'deleted series data');
    },
    snapshot: async (skipHead) => {
      const name = snapshotName();
      await everyIngester('snapshot', (c) => c.snapshot(name, skipHead));
      opts.logger.info({ name, skipHead }, 'snapshot written by every ingester');
      return name;
    },
  };
  /**
   * What the owner of `partition` made of the record at `offset`: asked of the members that
   * announce it, or of every member when none is known to (the others answer FAILED_PRECONDITION).
   * Replicas of a partition agree, so the first owner's answer is the answer.
   */
  const resultOf = async (partition: number, offset: number): Promise<AppendResult> => {
    const owners = [...clients].filter(([a]) => announced.get(a)?.has(partition) ?? true);
    if (owners.length === 0) throw new Error(`no ingester owns partition ${partition}`);
    const failures: string[] = [];
    try {
      return await Promise.any(
        owners.map(([address, c]) =>
          c.writeResult(partition, offset).catch((e: unknown) => {
            if (!(e instanceof IngesterCallError && e.code === status.FAILED_PRECONDITION))
              failures.push(`${address}: ${(e as Error).message}`);
            throw e;
          }),
        ),
      );
    } catch {
      throw new Error(
        failures.length > 0
          ? `no owner of partition ${partition} answered for offset ${offset}: ${failures.join('; ')}`
          : `no ingester owns partition ${partition}`,
      );
    }
  };
  /**
   * The head statistics of every partition, each counted once however many replicas hold it, as
   * one store's; an ingester that does not answer, and a partition none reported, are warnings.
   */
  const tsdbStatus = async () => {
    const members = [...clients];
    const answers = await Promise.allSettled(members.map(([, c]) => c.status()));
    const byPartition = new Map<number, StorageStatus>();
    const warnings: string[] = [];
    answers.forEach((a, i) => {
      if (a.status === 'rejected') {
        warnings.push(`ingester ${members[i][0]} did not answer: ${(a.reason as Error).message}`);
        return;
      }
      for (const p of a.value) if (!byPartition.has(p.partition)) byPartition.set(p.partition, p.status);
    });
    const missing = Array.from({ length: opts.partitions }, (_, p) => p).filter((p) => !byPartition.has(p));
    if (missing.length > 0)
      warnings.push(`no ingester reported partition ${missing.join(', ')}: its series are not counted`);
    return { status: mergeStatus(byPartition.values()), warnings };
  };
  return {
    queryable,
    admin,
    resultOf,
    tsdbStatus,
    close: () => {
      watch?.close();
      clients.forEach((c) => c.close());
    },
  };
}
