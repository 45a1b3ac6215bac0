import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { createApiServer } from '@pharos/api';
import { ConfigError, loadPrometheusConfig, type PrometheusConfig } from '@pharos/config';
import { Ingester } from '@pharos/ingest';
import type { SampleBatch } from '@pharos/model';
import { createLogger, createRegistry, Lifecycle } from '@pharos/observability';
import { Engine } from '@pharos/promql';
import { ScrapeManager } from '@pharos/scrape';
import { InProcessLog, SampleBus } from '@pharos/transport';
import { TSDB } from '@pharos/tsdb';
import { splitHostPort, type ServerFlags } from './flags.js';

/** Every role in one process: in-process bus, one storage shard, no outside servers. */
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
  for (const w of config.warnings) logger.warn({ file: flags.configFile }, w);
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
  let db: TSDB;
  try {
    db = await TSDB.open(join(flags.storagePath, 'shard-0'));
  } catch (e) {
    logger.error({ err: e, path: flags.storagePath }, 'cannot open storage');
    process.stderr.write(
      `pharos: cannot open storage at ${JSON.stringify(flags.storagePath)}: ${(e as Error).message}\n`,
    );
    process.exitCode = 1;
    return;
  }
  lifecycle.onStop('storage', () => db.close());
  logger.info({ path: flags.storagePath, series: db.stats().series }, 'storage opened');

  const bus = new SampleBus(new InProcessLog<SampleBatch>(1));
  const ingester = new Ingester(bus, new Map([[0, db]]), logger, registry);
  await ingester.start();
  lifecycle.onStop('ingester', () => ingester.stop());

  const scrape = new ScrapeManager(bus, {
    onScrapeError: (pool, err) => logger.error({ pool, err }, 'scrape loop error'),
    onTargetError: (pool, error) => logger.warn({ pool, error }, 'invalid target'),
  });
  await scrape.applyConfig(config);
  lifecycle.onStop('scrape', () => scrape.stop());

  const reload = async () => {
    let next: PrometheusConfig;
    try {
      next = loadPrometheusConfig(flags.configFile);
    } catch (e) {
      reloadOK.set(0);
      logger.error(
        { err: e instanceof Error ? e.message : String(e) },
        'error reloading config; keeping the old one',
      );
      throw e;
    }
    for (const w of next.warnings) logger.warn({ file: flags.configFile }, w);
    await scrape.applyConfig(next);
    config = next;
    reloadOK.set(1);
    reloadTime.set(Date.now() / 1000);
    logger.info({ file: flags.configFile }, 'configuration reloaded');
  };

  let ready = false;
  const engine = new Engine({
    lookbackDelta: flags.lookbackDelta,
    timeout: flags.queryTimeout,
    maxSamples: flags.queryMaxSamples,
  });
  const api = await createApiServer({
    queryable: db,
    engine,
    logger,
    registry,
    config: () => config,
    flags: flags.all,
    scrape,
    ready: () => ready,
    reload: flags.enableLifecycle ? reload : undefined,
    startTime,
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
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  ready = true;
  logger.info({ address: flags.listenAddress, config: flags.configFile }, 'Pharos is ready to serve queries');
}
