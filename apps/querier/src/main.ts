import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { addQueryService, QueryLimiter, createApiServer } from '@pharos/api';
import { loadPrometheusConfig, parsePrometheusConfig, splitHostPort } from '@pharos/config';
import { ingesterSet, listenGrpc } from '@pharos/ingest';
import {
  durationFlag,
  grpcClientConfigOption,
  grpcServerConfigOption,
  nonNegativeIntFlag,
  positiveIntFlag,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  type LogLevel,
} from '@pharos/observability';
import { Engine } from '@pharos/promql';
import { GrpcServerSecurity, loadGrpcChannelSecurity } from '@pharos/transport';

interface QuerierFlags {
  ingesters: string[];
  consul: string | undefined;
  partitions: number;
  configFile: string;
  listenAddress: string;
  grpcListenAddress: string;
  lookbackDelta: number;
  queryTimeout: number;
  queryMaxSamples: number;
  queryMaxSeries: number;
  queryMaxConcurrency: number;
  enableAdminApi: boolean;
  logLevel: LogLevel;
  webConfigFile: string | undefined;
  grpcConfigFile: string | undefined;
  grpcClientConfigFile: string | undefined;
  all: Record<string, string>;
}

function command(run: (flags: QuerierFlags) => Promise<void>) {
  return roleCommand(
    'pharos-querier',
    'The querier role: PromQL over every ingester (gRPC Select), the Prometheus HTTP API on 9090 and the gRPC Query service.',
    [
      new Option(
        '--ingester.addresses <list>',
        'gRPC addresses of the ingesters, comma-separated; together they must own every partition.',
      ).env('PHAROS_INGESTER_ADDRESSES'),
      new Option(
        '--consul.address <host:port>',
        'Find the ingesters in Consul (healthy pharos-ingester instances) instead of --ingester.addresses.',
      ).env('PHAROS_CONSUL_ADDRESS'),
      new Option(
        '--kafka.partitions <n>',
        'Partitions of the sample topic, to tell partitions no ingester owns.',
      )
        .env('PHAROS_KAFKA_PARTITIONS')
        .default('4'),
      new Option(
        '--config.file <path>',
        'Prometheus configuration file, shown by /api/v1/status/config (optional).',
      ).default('prometheus.yml'),
      new Option('--web.listen-address <address>', 'The HTTP API.').default('0.0.0.0:9090'),
      new Option('--grpc.listen-address <address>', 'The gRPC Query service.').default('0.0.0.0:9095'),
      grpcServerConfigOption(),
      grpcClientConfigOption(),
      new Option('--query.lookback-delta <duration>', 'How far back a sample is looked for.').default('5m'),
      new Option('--query.timeout <duration>', 'Maximum time a query may take.').default('2m'),
      new Option('--query.max-samples <n>', 'Maximum samples a query may load into memory.').default(
        '50000000',
      ),
      new Option('--query.max-series <n>', 'Maximum series a query may select; 0 for no limit.').default('0'),
      new Option('--query.max-concurrency <n>', 'Maximum queries run at once.').default('20'),
      new Option(
        '--web.enable-admin-api',
        'Enable API endpoints for admin control actions, carried out by every ingester.',
      ).default(false),
    ],
    async (opts) => {
      const positive = (name: string) => positiveIntFlag(opts, name);
      const consul = opts['consul.address'];
      if (!opts['ingester.addresses'] && !consul)
        throw new Error('give the ingesters: --ingester.addresses or --consul.address');
      await run({
        ingesters: (opts['ingester.addresses'] ?? '')
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
        consul,
        partitions: positive('kafka.partitions'),
        configFile: opts['config.file'],
        listenAddress: opts['web.listen-address'],
        grpcListenAddress: opts['grpc.listen-address'],
        lookbackDelta: durationFlag(opts, 'query.lookback-delta'),
        queryTimeout: durationFlag(opts, 'query.timeout'),
        queryMaxSamples: positive('query.max-samples'),
        queryMaxSeries: nonNegativeIntFlag(opts, 'query.max-series'),
        queryMaxConcurrency: positive('query.max-concurrency'),
        enableAdminApi: opts['web.enable-admin-api'] === 'true',
        logLevel: opts['log.level'] as LogLevel,
        webConfigFile: opts['web.config.file'],
        grpcConfigFile: opts['grpc.config.file'],
        grpcClientConfigFile: opts['grpc.client-config.file'],
        all: opts,
      });
    },
  );
}

async function runQuerier(flags: QuerierFlags): Promise<void> {
  const { logger, registry, lifecycle } = roleRuntime('querier', flags.logLevel);
  const grpcSecurity = GrpcServerSecurity.load(flags.grpcConfigFile, logger);
  const channel = loadGrpcChannelSecurity(flags.grpcClientConfigFile);
  lifecycle.installSignalHandlers();
  const startTime = new Date();
  // The querier scrapes nothing; the file only feeds /api/v1/status/config when it is there.
  const config = existsSync(flags.configFile)
    ? loadPrometheusConfig(flags.configFile)
    : parsePrometheusConfig('{}', flags.configFile);

  const ingesters = ingesterSet({
    addresses: flags.ingesters,
    consul: flags.consul,
    partitions: flags.partitions,
    registry,
    logger,
    role: 'querier',
    channel,
  });
  lifecycle.onStop('ingesters', async () => ingesters.close());
  const queryable = ingesters.queryable;
  const engine = new Engine({
    lookbackDelta: flags.lookbackDelta,
    timeout: flags.queryTimeout,
    maxSamples: flags.queryMaxSamples,
    maxSeries: flags.queryMaxSeries,
  });
  const limiter = new QueryLimiter(flags.queryTimeout, flags.queryMaxConcurrency);

  const grpc = grpcSecurity.newServer();
  addQueryService(grpc, { queryable, engine, limiter });
  const grpcPort = await listenGrpc(grpc, flags.grpcListenAddress, grpcSecurity.credentials());
  lifecycle.onStop('grpc', () => new Promise<void>((resolve) => grpc.tryShutdown(() => resolve())));

  let ready = false;
  const api = await createApiServer({
    queryable,
    engine,
    logger,
    registry,
    config: () => config,
    flags: flags.all,
    ready: () => ready,
    startTime,
    limiter,
    admin: flags.enableAdminApi ? ingesters.admin : undefined,
    webConfigFile: flags.webConfigFile,
  });
  await api.listen(splitHostPort(flags.listenAddress));
  lifecycle.onStop('http', async () => {
    ready = false;
    await api.close();
  });
  ready = true;
  logger.info(
    { address: flags.listenAddress, grpc: grpcPort, ingesters: flags.ingesters, consul: flags.consul },
    'querier ready to serve queries',
  );
}

runRoleCommand(command(runQuerier));
