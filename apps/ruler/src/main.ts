import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { Option } from 'commander';
import { Counter } from 'prom-client';
import {
  addRulerService,
  engineOptions,
  localRuleSource,
  parseQueryFlags,
  QueryLimiter,
  queryOptions,
  unknownFeatures,
} from '@pharos/api';
import { loadPrometheusConfig, splitHostPort, type PrometheusConfig } from '@pharos/config';
import { ingesterSet, listenGrpc } from '@pharos/ingest';
import {
  grpcClientConfigOption,
  grpcServerConfigOption,
  kafkaClientConfigOption,
  positiveIntFlag,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  serveRole,
  type LogLevel,
} from '@pharos/observability';
import { Engine } from '@pharos/promql';
import {
  engineRuleQuery,
  Notifier,
  parseRuleFlags,
  ruleOptions,
  ruleSamplesToBatch,
  RuleManager,
  storageForStateQuery,
  toBusAlerts,
  toNotifierAlerts,
  type RuleSettings,
} from '@pharos/rules';
import {
  AlertBus,
  GrpcServerSecurity,
  loadGrpcChannelSecurity,
  loadKafkaSecurity,
  openAlertTopic,
  openSampleTopic,
  SampleBus,
  type KafkaCompression,
} from '@pharos/transport';

// The ruler reads storage the way the querier does (every ingester, as one Queryable) and runs
// its own engine on it, as Mimir's ruler does, rather than a round trip through the querier per
// rule. Results go into the sample topic like scraped samples; alerts go onto the alert bus (the
// alertmanager role consumes it) and to any Alertmanager of `alerting.alertmanagers` over API v2.
const command = roleCommand(
  'pharos-ruler',
  'The ruler role: evaluates recording and alerting rules, writes results to the sample topic, and sends alerts to Alertmanagers.',
  [
    new Option(
      '--config.file <path>',
      'Prometheus configuration file (rule_files, alerting, global).',
    ).default('prometheus.yml'),
    new Option('--web.listen-address <address>', 'HTTP: /metrics, /-/healthy, /-/ready, /-/reload.').default(
      '0.0.0.0:9097',
    ),
    new Option('--web.external-url <url>', 'The URL alerts link back to (generatorURL): the querier’s.'),
    new Option('--ingester.addresses <list>', 'gRPC addresses of the ingesters, comma-separated.'),
    new Option(
      '--consul.address <host:port>',
      'Find the ingesters in Consul instead of --ingester.addresses.',
    ),
    new Option('--kafka.brokers <list>', 'Kafka bootstrap brokers, comma-separated.')
      .env('PHAROS_KAFKA_BROKERS')
      .makeOptionMandatory(),
    new Option('--kafka.topic <name>', 'The sample topic.').default('pharos.samples'),
    new Option('--kafka.partitions <n>', 'Partitions of the sample topic.')
      .env('PHAROS_KAFKA_PARTITIONS')
      .default('4'),
    new Option('--kafka.alerts-topic <name>', 'The alert bus the alertmanagers consume.').default(
      'pharos.alerts',
    ),
    new Option('--kafka.compression <codec>', 'Compression of produced records.')
      .choices(['none', 'gzip', 'snappy'])
      .default('snappy'),
    ...queryOptions(),
    ...ruleOptions(),
    new Option(
      '--grpc.listen-address <address>',
      'The Ruler gRPC service: rules, alerts and Alertmanagers, which the querier gathers.',
    ).default('0.0.0.0:9095'),
    grpcServerConfigOption(),
    grpcClientConfigOption(),
    kafkaClientConfigOption(),
  ],
  async (opts) => {
    const { logger, registry, lifecycle } = roleRuntime('ruler', opts['log.level'] as LogLevel);
    const query = parseQueryFlags(opts);
    const ruleFlags = parseRuleFlags(opts);
    for (const feature of unknownFeatures(query)) logger.warn({ feature }, 'unknown feature flag; ignored');
    const consul = opts['consul.address'];
    const addresses = (opts['ingester.addresses'] ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    if (addresses.length === 0 && !consul)
      throw new Error('give the ingesters: --ingester.addresses or --consul.address');
    const configFile = opts['config.file'];
    let config: PrometheusConfig = loadPrometheusConfig(configFile);
    const partitions = positiveIntFlag(opts, 'kafka.partitions');
    const { host, port } = splitHostPort(opts['web.listen-address']);
    const externalURL = opts['web.external-url'] ?? `http://${hostname()}:9090/`;

    const channel = loadGrpcChannelSecurity(opts['grpc.client-config.file']);
    const kafkaSecurity = loadKafkaSecurity(opts['kafka.client-config.file']);
    const ingesters = ingesterSet({
      addresses,
      consul,
      partitions,
      registry,
      logger,
      role: 'ruler',
      channel,
    });
    lifecycle.onStop('ingesters', async () => ingesters.close());
    // Opened in the background: a broken rule file is reported at once, not after Kafka answers,
    // and results wait for the topic.
    const opening = openSampleTopic(
      {
        brokers: opts['kafka.brokers'].split(',').map((b) => b.trim()),
        topic: opts['kafka.topic'],
        partitions,
        compression: opts['kafka.compression'] as KafkaCompression,
        security: kafkaSecurity,
      },
      'pharos-ruler',
      logger,
    );
    let opened: Awaited<typeof opening> | undefined;
    // Registered now so the topic closes after the rules stop, as in the other roles.
    lifecycle.onStop('kafka', async () => opened?.close());
    const alertTopic = openAlertTopic(
      {
        brokers: opts['kafka.brokers'].split(',').map((b) => b.trim()),
        topic: opts['kafka.alerts-topic'],
        security: kafkaSecurity,
      },
      'pharos-ruler',
      logger,
    );
    const alertsDropped = new Counter({
      name: 'pharos_alert_bus_dropped_total',
      help: 'Alerts dropped because the alert bus queue was full.',
      registers: [registry],
    });
    const alertBus = new AlertBus(alertTopic, {
      capacity: ruleFlags.notificationQueueCapacity,
      onDrop: (n) => alertsDropped.inc(n),
      onError: (err) => logger.warn({ err: String(err) }, 'alert bus append failed; retrying'),
    });
    let alertLog: Awaited<typeof alertTopic> | undefined;
    void alertTopic.then((l) => (alertLog = l)).catch(() => undefined);
    lifecycle.onStop('alert-bus', async () => {
      await alertBus.close();
      await alertLog?.close();
    });
    const bus = opening.then((log) => {
      opened = log;
      return new SampleBus(log);
    });
    bus.catch(() => undefined);
    const engine = new Engine(engineOptions(query));
    const limiter = new QueryLimiter(query.timeout, query.maxConcurrency);
    const notifier = new Notifier(logger, registry, ruleFlags.notificationQueueCapacity);
    notifier.applyConfig(config.alerting, config.global.externalLabels);
    notifier.addSink((alerts) => alertBus.publish(toBusAlerts(alerts)));
    lifecycle.onStop('notifier', () => notifier.stop());
    const rules = new RuleManager({
      query: engineRuleQuery(engine, ingesters.queryable, limiter),
      append: async (samples) => {
        const batch = ruleSamplesToBatch(samples);
        if (batch.refs.length > 0) await (await bus).publish(batch);
      },
      notify: (expr, alerts) => notifier.send(toNotifierAlerts(expr, alerts, externalURL)),
      readForState: storageForStateQuery(ingesters.queryable),
      logger,
      registry,
      resendDelay: ruleFlags.resendDelay,
      outageTolerance: ruleFlags.forOutageTolerance,
      gracePeriod: ruleFlags.forGracePeriod,
    });
    const settings = (c: PrometheusConfig): RuleSettings => ({
      patterns: c.ruleFiles,
      baseDir: dirname(configFile),
      evaluationInterval: c.global.evaluationInterval,
      queryOffset: c.global.ruleQueryOffset,
      externalLabels: c.global.externalLabels,
      externalURL,
    });
    await rules.update(settings(config));
    lifecycle.onStop('rules', () => rules.stop());

    const grpcSecurity = GrpcServerSecurity.load(opts['grpc.config.file'], logger);
    const grpc = grpcSecurity.newServer();
    addRulerService(
      grpc,
      localRuleSource(rules, () => notifier.alertmanagers()),
    );
    const grpcPort = await listenGrpc(grpc, opts['grpc.listen-address'], grpcSecurity.credentials());
    lifecycle.onStop('grpc', () => new Promise<void>((resolve) => grpc.tryShutdown(() => resolve())));

    const reload = async () => {
      try {
        const next = loadPrometheusConfig(configFile);
        await rules.update(settings(next));
        notifier.applyConfig(next.alerting, next.global.externalLabels);
        config = next;
        logger.info({ file: configFile }, 'configuration reloaded');
      } catch (e) {
        logger.error(
          { file: configFile, err: (e as Error).message },
          'error reloading config; keeping the old one',
        );
        throw e;
      }
    };
    lifecycle.installSignalHandlers(() => void reload().catch(() => undefined));
    const http = await serveRole(lifecycle, {
      host,
      port,
      registry,
      logger,
      reload,
      webConfigFile: opts['web.config.file'],
    });
    http.ready();
    logger.info(
      { groups: config.ruleFiles, ingesters: addresses, consul, grpc: grpcPort },
      'ruler evaluating rules',
    );
  },
);

runRoleCommand(command);
