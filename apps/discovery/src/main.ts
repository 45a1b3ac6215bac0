import { Option } from 'commander';
import { Gauge } from 'prom-client';
import { loadPrometheusConfig, splitHostPort } from '@pharos/config';
import { addDiscoveryService, instrumentedDiscovery, TargetDistributor } from '@pharos/discovery';
import { listenGrpc } from '@pharos/ingest';
import {
  grpcServerConfigOption,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  serveRole,
  type LogLevel,
} from '@pharos/observability';
import { GrpcServerSecurity } from '@pharos/transport';

interface DiscoveryFlags {
  configFile: string;
  listenAddress: string;
  grpcListenAddress: string;
  logLevel: LogLevel;
  webConfigFile: string | undefined;
  grpcConfigFile: string | undefined;
}

const command = (run: (flags: DiscoveryFlags) => Promise<void>) =>
  roleCommand(
    'pharos-discovery',
    'The discovery role: runs the scrape_configs’ service discovery, relabels, and hands each target to one live scraper (gRPC Subscribe).',
    [
      new Option('--config.file <path>', 'Prometheus configuration file path.').default('prometheus.yml'),
      new Option(
        '--web.listen-address <address>',
        'HTTP: /metrics, /-/healthy, /-/ready, /-/reload.',
      ).default('0.0.0.0:9102'),
      new Option(
        '--grpc.listen-address <address>',
        'The Discovery gRPC service scrapers subscribe to.',
      ).default('0.0.0.0:9095'),
      grpcServerConfigOption(),
    ],
    async (opts) =>
      run({
        configFile: opts['config.file'],
        listenAddress: opts['web.listen-address'],
        grpcListenAddress: opts['grpc.listen-address'],
        logLevel: opts['log.level'] as LogLevel,
        webConfigFile: opts['web.config.file'],
        grpcConfigFile: opts['grpc.config.file'],
      }),
  );

async function runDiscovery(flags: DiscoveryFlags): Promise<void> {
  const { logger, registry, lifecycle } = roleRuntime('discovery', flags.logLevel);
  const grpcSecurity = GrpcServerSecurity.load(flags.grpcConfigFile, logger);
  let config = loadPrometheusConfig(flags.configFile);
  for (const w of config.warnings) logger.warn({ file: flags.configFile }, w);
  const reloadOK = new Gauge({
    name: 'prometheus_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful.',
    registers: [registry],
  });
  reloadOK.set(1);

  const distributor = new TargetDistributor();
  distributor.applyConfig(config.scrapeConfigs);
  const discovery = instrumentedDiscovery(distributor, registry, logger);
  discovery.apply(config.scrapeConfigs);
  lifecycle.onStop('discovery', () => discovery.stop());

  const reload = async () => {
    try {
      const next = loadPrometheusConfig(flags.configFile);
      distributor.applyConfig(next.scrapeConfigs);
      discovery.apply(next.scrapeConfigs);
      config = next;
      reloadOK.set(1);
      logger.info({ file: flags.configFile, jobs: config.scrapeConfigs.length }, 'configuration reloaded');
    } catch (e) {
      reloadOK.set(0);
      logger.error(
        { file: flags.configFile, err: (e as Error).message },
        'error reloading config; keeping the old one',
      );
      throw e;
    }
  };
  lifecycle.installSignalHandlers(() => void reload().catch(() => undefined));

  const grpc = grpcSecurity.newServer();
  addDiscoveryService(grpc, distributor);
  const grpcPort = await listenGrpc(grpc, flags.grpcListenAddress, grpcSecurity.credentials());
  // Subscriptions are streams that never end by themselves: cut them; scrapers resubscribe.
  lifecycle.onStop('grpc', async () => grpc.forceShutdown());

  const http = await serveRole(lifecycle, {
    ...splitHostPort(flags.listenAddress),
    registry,
    logger,
    reload,
    webConfigFile: flags.webConfigFile,
  });
  http.ready();
  logger.info({ grpc: grpcPort, jobs: config.scrapeConfigs.length }, 'discovery serving scrapers');
}

runRoleCommand(command(runDiscovery));
