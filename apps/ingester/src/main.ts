import { hostname } from 'node:os';
import { Option } from 'commander';
import { splitHostPort } from '@pharos/config';
import { registerMember } from '@pharos/discovery';
import {
  createIngesterServer,
  Ingester,
  listenGrpc,
  ownedPartitions,
  parseStorageFlags,
  shardsAdmin,
  startRetention,
  storageOptions,
  type StorageFlags,
} from '@pharos/ingest';
import {
  grpcServerConfigOption,
  kafkaClientConfigOption,
  positiveIntFlag,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  startRoleServer,
  type LogLevel,
} from '@pharos/observability';
import {
  GrpcServerSecurity,
  loadKafkaSecurity,
  openSampleTopic,
  SampleBus,
  type KafkaCompression,
} from '@pharos/transport';
import { HeadSeriesLimit, ShardedTSDB } from '@pharos/tsdb';

interface IngesterFlags {
  brokers: string[];
  topic: string;
  total: number;
  owned: number[];
  group: string;
  compression: KafkaCompression;
  storage: StorageFlags;
  listenAddress: string;
  grpcListenAddress: string;
  consul: string | undefined;
  advertiseHost: string;
  logLevel: LogLevel;
  webConfigFile: string | undefined;
  grpcConfigFile: string | undefined;
  kafkaClientConfigFile: string | undefined;
}

function command(run: (flags: IngesterFlags) => Promise<void>) {
  return roleCommand(
    'pharos-ingester',
    'The ingester role: consumes its partitions of the sample topic into LevelDB shards, commits offsets once data is durable, and answers Select over gRPC.',
    [
      new Option('--kafka.brokers <list>', 'Kafka bootstrap brokers, comma-separated.')
        .env('PHAROS_KAFKA_BROKERS')
        .makeOptionMandatory(),
      new Option('--kafka.topic <name>', 'The sample topic.').default('pharos.samples'),
      new Option(
        '--kafka.partitions <n>',
        'Partitions of the sample topic: the shard count, fixed once created.',
      )
        .env('PHAROS_KAFKA_PARTITIONS')
        .default('4'),
      new Option('--kafka.compression <codec>', 'Compression of what this role produces.')
        .choices(['none', 'gzip', 'snappy'])
        .default('snappy'),
      new Option(
        '--ingester.partitions <list>',
        'Partitions this ingester owns, e.g. 0,1 (default: all, or its share by --ingester.instances).',
      ).env('PHAROS_INGESTER_PARTITIONS'),
      new Option(
        '--ingester.instances <n>',
        'With --ingester.instance: own the partitions p with p mod n = instance (a StatefulSet of n pods).',
      ).env('PHAROS_INGESTER_INSTANCES'),
      new Option(
        '--ingester.instance <i>',
        'This ingester’s index among --ingester.instances; "hostname" takes the number after the last "-" of the host name (pharos-ingester-2 is 2).',
      )
        .env('PHAROS_INGESTER_INSTANCE')
        .default('hostname'),
      new Option('--ingester.group <name>', 'Consumer group; a second replica set of ingesters uses its own.')
        .env('PHAROS_INGESTER_GROUP')
        .default('pharos-ingesters'),
      ...storageOptions(),
      new Option('--web.listen-address <address>', 'HTTP: /metrics, /-/healthy, /-/ready.').default(
        '0.0.0.0:9101',
      ),
      new Option('--grpc.listen-address <address>', 'The Ingester gRPC service.').default('0.0.0.0:9095'),
      grpcServerConfigOption(),
      kafkaClientConfigOption(),
      new Option(
        '--consul.address <host:port>',
        'Announce this ingester and its partitions in Consul, where queriers find it.',
      ).env('PHAROS_CONSUL_ADDRESS'),
      new Option(
        '--ingester.advertise-host <host>',
        'The host name or address peers dial (default: this host name).',
      ).env('PHAROS_ADVERTISE_HOST'),
    ],
    async (opts) => {
      const total = Number(opts['kafka.partitions']);
      if (!Number.isInteger(total) || total < 1)
        throw new Error('--kafka.partitions must be a positive integer');
      const owned = ownedPartitions({
        total,
        list: opts['ingester.partitions'],
        instances: opts['ingester.instances'] ? positiveIntFlag(opts, 'ingester.instances') : undefined,
        instance: opts['ingester.instance'],
        hostname: hostname(),
      });
      await run({
        brokers: opts['kafka.brokers'].split(',').map((b) => b.trim()),
        topic: opts['kafka.topic'],
        total,
        owned,
        group: opts['ingester.group'],
        compression: opts['kafka.compression'] as KafkaCompression,
        storage: parseStorageFlags(opts),
        listenAddress: opts['web.listen-address'],
        grpcListenAddress: opts['grpc.listen-address'],
        consul: opts['consul.address'],
        advertiseHost: opts['ingester.advertise-host'] ?? hostname(),
        logLevel: opts['log.level'] as LogLevel,
        webConfigFile: opts['web.config.file'],
        grpcConfigFile: opts['grpc.config.file'],
        kafkaClientConfigFile: opts['kafka.client-config.file'],
      });
    },
  );
}

async function runIngester(flags: IngesterFlags): Promise<void> {
  const { logger, registry, lifecycle } = roleRuntime('ingester', flags.logLevel);
  const grpcSecurity = GrpcServerSecurity.load(flags.grpcConfigFile, logger);
  const kafkaSecurity = loadKafkaSecurity(flags.kafkaClientConfigFile);
  lifecycle.installSignalHandlers();
  let ready = false;
  const http = splitHostPort(flags.listenAddress);
  const server = await startRoleServer({
    ...http,
    registry,
    logger,
    ready: () => ready,
    webConfigFile: flags.webConfigFile,
  });
  lifecycle.onStop('http', async () => {
    ready = false;
    await server.close();
  });

  const db = await ShardedTSDB.openPartitions(flags.storage.path, flags.owned, flags.total, {
    outOfOrderTimeWindowMs: flags.storage.outOfOrderWindow,
    seriesLimit: new HeadSeriesLimit(flags.storage.maxHeadSeries, registry),
  });
  lifecycle.onStop('storage', () => db.close());
  for (const message of db.damage())
    logger.error({ message }, 'storage was damaged: LevelDB dropped the damaged block and its samples');
  logger.info(
    { path: flags.storage.path, partitions: flags.owned, series: db.seriesCount() },
    'storage opened',
  );
  lifecycle.onStop('retention', await startRetention(db, flags.storage, logger));

  const log = await openSampleTopic(
    {
      brokers: flags.brokers,
      topic: flags.topic,
      partitions: flags.total,
      compression: flags.compression,
      security: kafkaSecurity,
    },
    'pharos-ingester',
    logger,
  );
  lifecycle.onStop('kafka', () => log.close());
  const ingester = new Ingester(new SampleBus(log), db.byPartition(), logger, registry, {
    group: flags.group,
    checkpointIntervalMs: flags.storage.checkpointInterval,
  });
  await ingester.start();
  lifecycle.onStop('ingester', () => ingester.stop());

  const grpc = createIngesterServer(
    {
      // Writes reach an ingester through Kafka only, so Push is not served; a remote write
      // gateway that produced a record asks here what storage made of it.
      resultOf: (p, o) => ingester.resultOf(p, o),
      select: (m, mint, maxt) => db.select(m, mint, maxt),
      selectChunks: (m, mint, maxt) => db.selectChunks(m, mint, maxt),
      series: (m, mint, maxt) => db.series(m, mint, maxt),
      labelNames: (m, mint, maxt) => db.labelNames(m, mint, maxt),
      labelValues: (n, m, mint, maxt) => db.labelValues(n, m, mint, maxt),
      partitionStatus: () => db.partitionStatus(),
      // The querier's admin API (--web.enable-admin-api there) asks every ingester.
      admin: shardsAdmin(db, ingester, flags.storage.path, logger),
    },
    grpcSecurity.newServer(),
  );
  const grpcPort = await listenGrpc(grpc, flags.grpcListenAddress, grpcSecurity.credentials());
  lifecycle.onStop('grpc', () => new Promise<void>((resolve) => grpc.tryShutdown(() => resolve())));
  ready = true;
  if (flags.consul) {
    const leave = await registerMember(flags.consul, {
      service: 'pharos-ingester',
      id: `pharos-ingester-${flags.advertiseHost}-${grpcPort}`,
      host: flags.advertiseHost,
      port: grpcPort,
      checkUrl: `http://${flags.advertiseHost}:${http.port}/-/ready`,
      meta: { partitions: flags.owned.join(','), group: flags.group, topic: flags.topic },
    });
    // Registered last, so it leaves first: queriers stop asking before the store closes.
    lifecycle.onStop('consul registration', leave);
  }
  logger.info(
    { grpc: grpcPort, partitions: flags.owned, group: flags.group, topic: flags.topic },
    'ingester consuming and serving',
  );
}

runRoleCommand(command(runIngester));
