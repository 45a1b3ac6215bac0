import { existsSync } from 'node:fs';
import { Option } from 'commander';
import {
  addQueryService,
  createApiServer,
  engineOptions,
  parseQueryFlags,
  QueryLimiter,
  queryOptions,
  remoteRuleSource,
  unknownFeatures,
  type QueryFlags,
} from '@pharos/api';
import { loadPrometheusConfig, parsePrometheusConfig, splitHostPort } from '@pharos/config';
import { ingesterSet, listenGrpc } from '@pharos/ingest';
import {
  grpcClientConfigOption,
  grpcServerConfigOption,
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
  rulers: string[];
  consul: string | undefined;
  partitions: number;
  configFile: string;
  listenAddress: string;
  grpcListenAddress: string;
  query: QueryFlags;
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
        '--ruler.addresses <list>',
        'gRPC addresses of the rulers, comma-separated: /api/v1/rules, /api/v1/alerts and /api/v1/alertmanagers gather from each.',
      ),
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
      ...queryOptions(),
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
        rulers: (opts['ruler.addresses'] ?? '')
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
        partitions: positive('kafka.partitions'),
        configFile: opts['config.file'],
        listenAddress: opts['web.listen-address'],
        grpcListenAddress: opts['grpc.listen-address'],
        query: parseQueryFlags(opts),
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
  for (const feature of unknownFeatures(flags.query))
    logger.warn({ feature }, 'unknown feature flag; ignored');
  const engine = new Engine(engineOptions(flags.query));
  const limiter = new QueryLimiter(flags.query.timeout, flags.query.maxConcurrency);

  const rulers = remoteRuleSource(flags.rulers, { channel, timeoutMs: 10_000, logger });
  lifecycle.onStop('rulers', async () => rulers.close());

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
    rules: rulers.source,
    tsdbStatus: () => ingesters.tsdbStatus(),
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
