import { hostname } from 'node:os';
import { Option } from 'commander';
import { Counter, Gauge } from 'prom-client';
import { DEFAULT_MAX_SAMPLES_PER_REQUEST, registerRemoteRoutes } from '@pharos/api';
import { loadPrometheusConfig, splitHostPort } from '@pharos/config';
import { subscribeTargets } from '@pharos/discovery';
import { ingesterSet, writeThroughLog } from '@pharos/ingest';
import {
  grpcClientConfigOption,
  kafkaClientConfigOption,
  positiveIntFlag,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  startRoleServer,
  type LogLevel,
} from '@pharos/observability';
import { loggingScrapeHooks, registerScrapeMetrics, ScrapeManager } from '@pharos/scrape';
import {
  BufferedPublisher,
  loadGrpcChannelSecurity,
  loadKafkaSecurity,
  openSampleTopic,
  SampleBus,
  type KafkaCompression,
} from '@pharos/transport';

interface ScraperFlags {
  configFile: string;
  discovery: string;
  scraperId: string;
  brokers: string[];
  topic: string;
  partitions: number;
  compression: KafkaCompression;
  bufferSamples: number;
  listenAddress: string;
  remoteWrite: boolean;
  remoteWriteMaxSamples: number;
  grpcClientConfigFile: string | undefined;
  kafkaClientConfigFile: string | undefined;
  ingesters: string[];
  consul: string | undefined;
  logLevel: LogLevel;
  webConfigFile: string | undefined;
}

const command = (run: (flags: ScraperFlags) => Promise<void>) =>
  roleCommand(
    'pharos-scraper',
    'The scraper role: scrapes the targets discovery assigns it and produces the samples to Kafka; also the remote_write gateway.',
    [
      new Option('--config.file <path>', 'Prometheus configuration file: the jobs’ scrape settings.').default(
        'prometheus.yml',
      ),
      new Option('--discovery.address <address>', 'gRPC address of the discovery role.')
        .env('PHAROS_DISCOVERY_ADDRESS')
        .makeOptionMandatory(),
      new Option(
        '--scraper.id <id>',
        'This scraper’s name on the discovery ring (default: host and pid).',
      ).env('PHAROS_SCRAPER_ID'),
      new Option('--kafka.brokers <list>', 'Kafka bootstrap brokers, comma-separated.')
        .env('PHAROS_KAFKA_BROKERS')
        .makeOptionMandatory(),
      new Option('--kafka.topic <name>', 'The sample topic.').default('pharos.samples'),
      new Option('--kafka.partitions <n>', 'Partitions of the sample topic (the shard count).')
        .env('PHAROS_KAFKA_PARTITIONS')
        .default('4'),
      new Option('--kafka.compression <codec>', 'Compression of produced records.')
        .choices(['none', 'gzip', 'snappy'])
        .default('snappy'),
      new Option(
        '--scraper.buffer-samples <n>',
        'Samples held while Kafka is unreachable; past it scrapes are dropped and counted.',
      ).default('5000000'),
      new Option('--web.listen-address <address>', 'HTTP: /metrics, probes, remote_write.').default(
        '0.0.0.0:9103',
      ),
      new Option('--web.enable-remote-write-receiver', 'Accept Prometheus remote_write at /api/v1/write.'),
      new Option(
        '--ingester.addresses <list>',
        'gRPC addresses of the ingesters, comma-separated: the receiver asks the owner of each partition what storage made of a request before it answers.',
      ).env('PHAROS_INGESTER_ADDRESSES'),
      new Option(
        '--consul.address <host:port>',
        'Find the ingesters in Consul instead of --ingester.addresses.',
      ).env('PHAROS_CONSUL_ADDRESS'),
      grpcClientConfigOption(),
      kafkaClientConfigOption(),
      new Option(
        '--remote-write.max-samples-per-request <n>',
        'Remote write requests with more samples are refused with 400.',
      ).default(String(DEFAULT_MAX_SAMPLES_PER_REQUEST)),
    ],
    async (opts) => {
      const positive = (name: string) => positiveIntFlag(opts, name);
      await run({
        configFile: opts['config.file'],
        discovery: opts['discovery.address'],
        scraperId: opts['scraper.id'] ?? `${hostname()}-${process.pid}`,
        brokers: opts['kafka.brokers'].split(',').map((b) => b.trim()),
        topic: opts['kafka.topic'],
        partitions: positive('kafka.partitions'),
        compression: opts['kafka.compression'] as KafkaCompression,
        bufferSamples: positive('scraper.buffer-samples'),
        listenAddress: opts['web.listen-address'],
        remoteWrite: opts['web.enable-remote-write-receiver'] === 'true',
        remoteWriteMaxSamples: positive('remote-write.max-samples-per-request'),
        grpcClientConfigFile: opts['grpc.client-config.file'],
        kafkaClientConfigFile: opts['kafka.client-config.file'],
        ingesters: (opts['ingester.addresses'] ?? '')
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
        consul: opts['consul.address'],
        logLevel: opts['log.level'] as LogLevel,
        webConfigFile: opts['web.config.file'],
      });
    },
  );

async function runScraper(flags: ScraperFlags): Promise<void> {
  const { logger, registry, lifecycle } = roleRuntime('scraper', flags.logLevel);
  const channel = loadGrpcChannelSecurity(flags.grpcClientConfigFile);
  const kafkaSecurity = loadKafkaSecurity(flags.kafkaClientConfigFile);
  if (flags.remoteWrite && flags.ingesters.length === 0 && !flags.consul)
    throw new Error(
      '--web.enable-remote-write-receiver needs the ingesters (--ingester.addresses or --consul.address): a request is answered only once the owners of its partitions say what they stored',
    );
  let config = loadPrometheusConfig(flags.configFile);
  for (const w of config.warnings) logger.warn({ file: flags.configFile }, w);

  const log = await openSampleTopic(
    {
      brokers: flags.brokers,
      topic: flags.topic,
      partitions: flags.partitions,
      compression: flags.compression,
      security: kafkaSecurity,
    },
    'pharos-scraper',
    logger,
  );
  lifecycle.onStop('kafka', () => log.close());
  const bus = new SampleBus(log);
  // The receiver's answer waits for storage's verdict, so a refused sample is a 400, never a 204.
  const ingesters = flags.remoteWrite
    ? ingesterSet({
        addresses: flags.ingesters,
        consul: flags.consul,
        partitions: flags.partitions,
        registry,
        logger,
        role: 'scraper',
        channel,
      })
    : undefined;
  if (ingesters) lifecycle.onStop('ingesters', async () => ingesters.close());

  const dropped = new Counter({
    name: 'pharos_scraper_samples_dropped_total',
    help: 'Scraped samples dropped because Kafka stayed unreachable past the buffer.',
    registers: [registry],
  });
  const buffer = new BufferedPublisher((b) => bus.publish(b), {
    maxSamples: flags.bufferSamples,
    onDrop: (n) => dropped.inc(n),
    onError: (err) => logger.warn({ err: (err as Error).message }, 'cannot produce samples; retrying'),
  });
  new Gauge({
    name: 'pharos_scraper_buffered_samples',
    help: 'Scraped samples waiting for Kafka.',
    registers: [registry],
    collect() {
      this.set(buffer.bufferedSamples);
    },
  });
  // Stops after the scrape manager (registered later, stopped earlier): flush what it produced.
  lifecycle.onStop('buffer', async () => {
    if (!(await buffer.flush(10_000)))
      logger.error('Kafka unreachable at shutdown; buffered samples dropped');
    buffer.close();
  });

  const scrape = new ScrapeManager(buffer, loggingScrapeHooks(logger));
  registerScrapeMetrics(scrape, registry);
  for (const err of await scrape.applyConfig(config)) logger.error({ err }, 'scrape job skipped');
  lifecycle.onStop('scrape', () => scrape.stop());
  new Gauge({
    name: 'prometheus_target_scrape_pool_targets',
    help: 'Current number of targets in this scrape pool.',
    labelNames: ['scrape_job'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of scrape.poolNames()) this.set({ scrape_job: pool }, 0);
      for (const t of scrape.activeTargets()) this.inc({ scrape_job: t.pool });
    },
  });

  const subscription = subscribeTargets(
    flags.discovery,
    flags.scraperId,
    (a) => scrape.applyAssignment(a, (pool, err) => logger.error({ pool, err }, 'cannot apply targets')),
    {
      onError: (message) => logger.warn({ discovery: flags.discovery }, message),
      channel,
    },
  );
  lifecycle.onStop('discovery subscription', async () => subscription.close());

  lifecycle.installSignalHandlers(() => {
    try {
      config = loadPrometheusConfig(flags.configFile);
      void scrape
        .applyConfig(config)
        .then((errs) => errs.forEach((err) => logger.error({ err }, 'scrape job skipped')));
      logger.info({ file: flags.configFile }, 'configuration reloaded');
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'error reloading config; keeping the old one');
    }
  });

  let ready = false;
  const http = await startRoleServer({
    ...splitHostPort(flags.listenAddress),
    registry,
    logger,
    ready: () => ready,
    bodyLimit: 32 * 1024 * 1024,
    webConfigFile: flags.webConfigFile,
    // Pushed samples take the scrapers' path, but a sender waits for Kafka's acknowledgement and
    // storage's verdict: a 503 (broker or owner away) makes it retry, and an identical resend is
    // taken silently, so nothing it was told is stored can be lost nor stored twice.
    routes: (app) =>
      registerRemoteRoutes(app, {
        logger,
        registry,
        remoteWrite: ingesters ? (batch) => writeThroughLog(bus, batch, ingesters.resultOf) : undefined,
        maxSamplesPerRequest: flags.remoteWriteMaxSamples,
      }),
  });
  lifecycle.onStop('http', async () => {
    ready = false;
    await http.close();
  });
  ready = true;
  logger.info({ id: flags.scraperId, discovery: flags.discovery, topic: flags.topic }, 'scraper running');
}

runRoleCommand(command(runScraper));
