import { existsSync } from 'node:fs';
import { Server } from '@grpc/grpc-js';
import { Option } from 'commander';
import { addQueryService, createApiServer } from '@pharos/api';
import { loadPrometheusConfig, parseDuration, parsePrometheusConfig, splitHostPort } from '@pharos/config';
import { IngesterGrpcClient, listenGrpc } from '@pharos/ingest';
import {
  positiveIntFlag,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  type LogLevel,
} from '@pharos/observability';
import { Engine } from '@pharos/promql';
import { FanoutQueryable } from '@pharos/tsdb';

interface QuerierFlags {
  ingesters: string[];
  configFile: string;
  listenAddress: string;
  grpcListenAddress: string;
  lookbackDelta: number;
  queryTimeout: number;
  queryMaxSamples: number;
  queryMaxConcurrency: number;
  logLevel: LogLevel;
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
      )
        .env('PHAROS_INGESTER_ADDRESSES')
        .makeOptionMandatory(),
      new Option(
        '--config.file <path>',
        'Prometheus configuration file, shown by /api/v1/status/config (optional).',
      ).default('prometheus.yml'),
      new Option('--web.listen-address <address>', 'The HTTP API.').default('0.0.0.0:9090'),
      new Option('--grpc.listen-address <address>', 'The gRPC Query service.').default('0.0.0.0:9095'),
      new Option('--query.lookback-delta <duration>', 'How far back a sample is looked for.').default('5m'),
      new Option('--query.timeout <duration>', 'Maximum time a query may take.').default('2m'),
      new Option('--query.max-samples <n>', 'Maximum samples a query may load into memory.').default(
        '50000000',
      ),
      new Option('--query.max-concurrency <n>', 'Maximum queries run at once.').default('20'),
    ],
    async (opts) => {
      const positive = (name: string) => positiveIntFlag(opts, name);
      await run({
        ingesters: opts['ingester.addresses']
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
        configFile: opts['config.file'],
        listenAddress: opts['web.listen-address'],
        grpcListenAddress: opts['grpc.listen-address'],
        lookbackDelta: parseDuration(opts['query.lookback-delta']),
        queryTimeout: parseDuration(opts['query.timeout']),
        queryMaxSamples: positive('query.max-samples'),
        queryMaxConcurrency: positive('query.max-concurrency'),
        logLevel: opts['log.level'] as LogLevel,
        all: opts,
      });
    },
  );
}

async function runQuerier(flags: QuerierFlags): Promise<void> {
  const { logger, registry, lifecycle } = roleRuntime('querier', flags.logLevel);
  lifecycle.installSignalHandlers();
  const startTime = new Date();
  // The querier scrapes nothing; the file only feeds /api/v1/status/config when it is there.
  const config = existsSync(flags.configFile)
    ? loadPrometheusConfig(flags.configFile)
    : parsePrometheusConfig('{}', flags.configFile);

  const clients = flags.ingesters.map((a) => new IngesterGrpcClient(a));
  lifecycle.onStop('ingester clients', async () => clients.forEach((c) => c.close()));
  const queryable = new FanoutQueryable(clients);
  const engine = new Engine({
    lookbackDelta: flags.lookbackDelta,
    timeout: flags.queryTimeout,
    maxSamples: flags.queryMaxSamples,
  });

  const grpc = new Server();
  addQueryService(grpc, { queryable, engine });
  const grpcPort = await listenGrpc(grpc, flags.grpcListenAddress);
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
    maxConcurrency: flags.queryMaxConcurrency,
  });
  await api.listen(splitHostPort(flags.listenAddress));
  lifecycle.onStop('http', async () => {
    ready = false;
    await api.close();
  });
  ready = true;
  logger.info(
    { address: flags.listenAddress, grpc: grpcPort, ingesters: flags.ingesters },
    'querier ready to serve queries',
  );
}

runRoleCommand(command(runQuerier));
