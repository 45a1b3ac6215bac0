import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Gauge } from 'prom-client';
import { Alertmanager, consumeAlertBus, FileState, reloadLogged, serveAlertmanager } from '@pharos/alerting';
import {
  addQueryService,
  createApiServer,
  engineOptions,
  localRuleSource,
  QueryLimiter,
  unknownFeatures,
} from '@pharos/api';
import { ConfigError, loadPrometheusConfig, type PrometheusConfig } from '@pharos/config';
import { instrumentedDiscovery, TargetDistributor } from '@pharos/discovery';
import {
  createIngesterServer,
  Ingester,
  ingesterBackend,
  listenGrpc,
  shardsAdmin,
  startRetention,
} from '@pharos/ingest';
import type { SampleBatch } from '@pharos/model';
import { createLogger, createRegistry, Lifecycle, WebSecurity } from '@pharos/observability';
import { Engine } from '@pharos/promql';
import {
  engineRuleQuery,
  Notifier,
  RuleManager,
  ruleSamplesToBatch,
  storageForStateQuery,
  toBusAlerts,
  toNotifierAlerts,
  type RuleSettings,
} from '@pharos/rules';
import { loggingScrapeHooks, registerScrapeMetrics, ScrapeManager } from '@pharos/scrape';
import { sampleBatchLogCodec } from '@pharos/proto';
import {
  AlertBus,
  FileLog,
  GrpcServerSecurity,
  InProcessLog,
  SampleBus,
  type BusAlert,
} from '@pharos/transport';
import { HeadSeriesLimit, ShardedTSDB, snapshotName } from '@pharos/tsdb';
import { splitHostPort, type ServerFlags } from './flags.js';

/** Every role in one process: the file-backed log as the bus, sharded storage, no outside servers. */
export async function runEmbedded(flags: ServerFlags): Promise<void> {
  const logger = createLogger(flags.logLevel);
  const startTime = new Date();
  let config: PrometheusConfig;
  try {
    config = loadPrometheusConfig(flags.configFile);
  } catch (e) {
    const msg = e instanceof ConfigError ? e.message : String(e);
    logger.error({ file: flags.configFile, err: msg }, 'error loading config');
    process.stderr.write(`pharos: error loading config from ${JSON.stringify(flags.configFile)}: ${msg}\n`);
    process.exitCode = 1;
    return;
  }
  // Checked before storage opens, so a broken file is one line on stderr, as a broken config is.
  let grpcSecurity: GrpcServerSecurity;
  let loading = 'web config';
  try {
    WebSecurity.load(flags.webConfigFile, logger);
    loading = 'gRPC config';
    grpcSecurity = GrpcServerSecurity.load(flags.grpcConfigFile, logger, flags.webConfigFile);
  } catch (e) {
    const msg = (e as Error).message;
    logger.error({ err: msg }, `error loading ${loading}`);
    process.stderr.write(`pharos: error loading ${loading}: ${msg}\n`);
    process.exitCode = 1;
    return;
  }
  for (const w of config.warnings) logger.warn({ file: flags.configFile }, w);
  for (const feature of unknownFeatures(flags.query))
    logger.warn({ feature }, 'unknown feature flag; ignored');
  const { host, port } = splitHostPort(flags.listenAddress);

  const registry = createRegistry();
  const reloadOK = new Gauge({
    name: 'prometheus_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful.',
    registers: [registry],
  });
  const reloadTime = new Gauge({
    name: 'prometheus_config_last_reload_success_timestamp_seconds',
    help: 'Timestamp of the last successful configuration reload.',
    registers: [registry],
  });
  reloadOK.set(1);
  reloadTime.set(Date.now() / 1000);

  const lifecycle = new Lifecycle(logger);
  let db: ShardedTSDB;
  let log: FileLog<SampleBatch>;
  try {
    db = await ShardedTSDB.open(flags.storage.path, flags.shards, {
      outOfOrderTimeWindowMs: flags.storage.outOfOrderWindow,
      seriesLimit: new HeadSeriesLimit(flags.storage.maxHeadSeries, registry),
    });
    log = FileLog.open(join(flags.storage.path, 'wal'), flags.shards, sampleBatchLogCodec, {
      onRepair: (message) => logger.warn({ message }, 'write-ahead log repaired'),
    });
  } catch (e) {
    logger.error({ err: e, path: flags.storage.path }, 'cannot open storage');
    process.stderr.write(
      `pharos: cannot open storage at ${JSON.stringify(flags.storage.path)}: ${(e as Error).message}\n`,
    );
    process.exitCode = 1;
    return;
  }
  lifecycle.onStop('storage', () => db.close());
  lifecycle.onStop('write-ahead log', () => log.close());
  for (const message of db.damage())
    logger.error({ message }, 'storage was damaged: LevelDB dropped the damaged block and its samples');
  logger.info({ path: flags.storage.path, shards: flags.shards, series: db.seriesCount() }, 'storage opened');

  const bus = new SampleBus(log);
  const shardMap = new Map(db.shards.map((s, i) => [i, s]));
  const ingester = new Ingester(bus, shardMap, logger, registry, {
    checkpointIntervalMs: flags.storage.checkpointInterval,
  });
  const replayStart = Date.now();
  await ingester.start();
  await ingester.drain();
  logger.info({ ms: Date.now() - replayStart, series: db.seriesCount() }, 'write-ahead log replayed');
  lifecycle.onStop('ingester', () => ingester.stop());
  const admin = shardsAdmin(db, ingester, flags.storage.path, logger);

  lifecycle.onStop('retention', await startRetention(db, flags.storage, logger));

  const scrape = new ScrapeManager(bus, loggingScrapeHooks(logger));
  registerScrapeMetrics(scrape, registry);
  for (const err of await scrape.applyConfig(config)) logger.error({ err }, 'scrape job skipped');
  lifecycle.onStop('scrape', () => scrape.stop());
  // The distributed mode's code with one scraper: discovery relabels and assigns, the local
  // scrape manager is the only subscriber.
  const distributor = new TargetDistributor();
  distributor.applyConfig(config.scrapeConfigs);
  const unsubscribe = distributor.subscribe({
    id: 'embedded',
    send: (a) =>
      scrape.applyAssignment(a, (pool, err) => logger.error({ pool, err }, 'cannot apply targets')),
  });
  const discovery = instrumentedDiscovery(distributor, registry, logger);
  discovery.apply(config.scrapeConfigs);
  // Discovery stops first so no target update arrives at a stopped scrape manager.
  lifecycle.onStop('discovery', async () => {
    await discovery.stop();
    unsubscribe();
  });

  const engine = new Engine(engineOptions(flags.query));
  const limiter = new QueryLimiter(flags.query.timeout, flags.query.maxConcurrency);

  // The ruler: queries the local engine, writes results through the ingester (visible to the
  // next rule once pushed), and posts alerts to the configured Alertmanagers.
  const externalURL = flags.externalURL || `http://${hostname()}:${port}/`;
  const notifier = new Notifier(logger, registry, flags.rules.notificationQueueCapacity);
  notifier.applyConfig(config.alerting, config.global.externalLabels);
  lifecycle.onStop('notifier', () => notifier.stop());

  let ready = false;

  // The embedded Alertmanager: the ruler's alerts reach it in-process (the alert bus of this mode),
  // and it serves the Alertmanager API v2 on its own port as the real one does.
  let alertmanager: Alertmanager | undefined;
  if (flags.alertmanagerConfigFile !== '') {
    const amAddress = splitHostPort(flags.alertmanagerListenAddress);
    const amLogger = logger.child({ component: 'alertmanager' });
    const am = new Alertmanager({
      configFile: flags.alertmanagerConfigFile,
      externalURL: `http://${hostname()}:${amAddress.port}`,
      state: new FileState(flags.alertmanagerStoragePath, amLogger),
      logger: amLogger,
      registry,
    });
    try {
      await am.start();
    } catch (e) {
      logger.error(
        { file: flags.alertmanagerConfigFile, err: (e as Error).message },
        'error loading alertmanager config',
      );
      process.stderr.write(`pharos: error loading alertmanager config: ${(e as Error).message}\n`);
      await lifecycle.stop();
      process.exitCode = 1;
      return;
    }
    lifecycle.onStop('alertmanager', () => am.stop());
    const alertBus = new AlertBus(new InProcessLog<BusAlert[]>(1));
    lifecycle.onStop('alert-bus', () => alertBus.close());
    const consuming = await consumeAlertBus(am, alertBus, 'alertmanager', amLogger);
    lifecycle.onStop('alert-bus-consumer', () => consuming.stop());
    notifier.addSink((alerts) => alertBus.publish(toBusAlerts(alerts)));
    const amServer = await serveAlertmanager(am, {
      ...amAddress,
      registry,
      logger: amLogger,
      ready: () => ready,
      webConfigFile: flags.webConfigFile,
    });
    lifecycle.onStop('alertmanager-http', () => amServer.close());
    alertmanager = am;
  }
  const rules = new RuleManager({
    query: engineRuleQuery(engine, db, limiter),
    append: async (samples) => {
      const batch = ruleSamplesToBatch(samples);
      if (batch.refs.length === 0) return;
      const r = await ingester.push(batch);
      if (r.firstError !== undefined) logger.debug({ reason: r.firstError }, 'rule results rejected');
    },
    notify: (expr, alerts) => notifier.send(toNotifierAlerts(expr, alerts, externalURL)),
    readForState: storageForStateQuery(db),
    logger,
    registry,
    resendDelay: flags.rules.resendDelay,
    outageTolerance: flags.rules.forOutageTolerance,
    gracePeriod: flags.rules.forGracePeriod,
  });
  const ruleSettings = (c: PrometheusConfig): RuleSettings => ({
    patterns: c.ruleFiles,
    baseDir: dirname(flags.configFile),
    evaluationInterval: c.global.evaluationInterval,
    queryOffset: c.global.ruleQueryOffset,
    externalLabels: c.global.externalLabels,
    externalURL,
  });
  try {
    await rules.update(ruleSettings(config));
  } catch (e) {
    logger.error({ file: flags.configFile, err: (e as Error).message }, 'error loading rules');
    process.stderr.write(`pharos: error loading rules: ${(e as Error).message}\n`);
    await lifecycle.stop();
    process.exitCode = 1;
    return;
  }
  lifecycle.onStop('rules', () => rules.stop());

  let lastReload = { success: true, time: startTime };
  const reload = async () => {
    try {
      const next = loadPrometheusConfig(flags.configFile);
      for (const w of next.warnings) logger.warn({ file: flags.configFile }, w);
      const problems = await scrape.applyConfig(next);
      distributor.applyConfig(next.scrapeConfigs);
      discovery.apply(next.scrapeConfigs);
      await rules.update(ruleSettings(next));
      notifier.applyConfig(next.alerting, next.global.externalLabels);
      config = next;
      // The rest of the configuration is in force; the failed jobs keep what they had, as upstream.
      if (problems.length > 0) throw new Error(problems.join('; '));
    } catch (e) {
      reloadOK.set(0);
      lastReload = { success: false, time: lastReload.time };
      logger.error(
        { file: flags.configFile, err: e instanceof Error ? e.message : String(e) },
        'error reloading config; keeping the old one',
      );
      throw e;
    }
    reloadOK.set(1);
    reloadTime.set(Date.now() / 1000);
    lastReload = { success: true, time: new Date() };
    logger.info({ file: flags.configFile }, 'configuration reloaded');
  };

  if (flags.grpcListenAddress !== '') {
    // Push is a write path: served only where the remote write receiver is on.
    const grpc = createIngesterServer(
      ingesterBackend(ingester, db, { push: flags.enableRemoteWriteReceiver }),
      grpcSecurity.newServer(),
    );
    addQueryService(grpc, { queryable: db, engine, limiter });
    try {
      const port = await listenGrpc(grpc, flags.grpcListenAddress, grpcSecurity.credentials());
      logger.info({ address: flags.grpcListenAddress, port }, 'gRPC Ingester and Query services listening');
    } catch (e) {
      logger.error({ err: e, address: flags.grpcListenAddress }, 'cannot listen for gRPC');
      process.stderr.write(`pharos: cannot listen on ${flags.grpcListenAddress}: ${(e as Error).message}\n`);
      await lifecycle.stop();
      process.exitCode = 1;
      return;
    }
    lifecycle.onStop('grpc', () => new Promise<void>((resolve) => grpc.tryShutdown(() => resolve())));
  }

  const api = await createApiServer({
    queryable: db,
    engine,
    logger,
    registry,
    config: () => config,
    flags: flags.all,
    scrape,
    droppedTargets: () => [...distributor.droppedTargets(), ...scrape.droppedTargets()],
    ready: () => ready,
    reload: flags.enableLifecycle ? reload : undefined,
    quit: flags.enableLifecycle ? () => process.kill(process.pid, 'SIGTERM') : undefined,
    lastReload: () => lastReload,
    admin: flags.enableAdminApi
      ? {
          deleteSeries: async (sets, start, end) => {
            await admin.deleteSeries(sets, start, end);
          },
          snapshot: async (skipHead) => {
            const name = snapshotName();
            await admin.snapshot(name, !skipHead);
            return name;
          },
        }
      : undefined,
    tsdbStatus: () => db.status(),
    limiter,
    // Pushed samples take the scraper's path, durable in the write-ahead log before the answer,
    // which waits for storage's verdict: what it refused is a 400, never a 204.
    remoteWrite: flags.enableRemoteWriteReceiver ? (batch) => ingester.push(batch) : undefined,
    maxSamplesPerRequest: flags.remoteWriteMaxSamples,
    rules: localRuleSource(rules, () => notifier.alertmanagers()),
    startTime,
    webConfigFile: flags.webConfigFile,
  });
  try {
    await api.listen({ host, port });
  } catch (e) {
    logger.error({ err: e, address: flags.listenAddress }, 'cannot listen');
    process.stderr.write(`pharos: cannot listen on ${flags.listenAddress}: ${(e as Error).message}\n`);
    await lifecycle.stop();
    process.exitCode = 1;
    return;
  }
  lifecycle.onStop('http', async () => {
    ready = false;
    await api.close();
  });
  lifecycle.installSignalHandlers(() => {
    reload().catch(() => undefined);
    if (alertmanager) {
      try {
        reloadLogged(alertmanager, logger);
      } catch {
        // Logged; the old Alertmanager configuration stays in force.
      }
    }
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  ready = true;
  logger.info({ address: flags.listenAddress, config: flags.configFile }, 'Pharos is ready to serve queries');
}
