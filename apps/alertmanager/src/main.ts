import { hostname } from 'node:os';
import { Option } from 'commander';
import {
  Alertmanager,
  consumeAlertBus,
  FileState,
  RedisState,
  reloadLogged,
  serveAlertmanager,
} from '@pharos/alerting';
import { loadRedisClientConfig, readSecret, splitHostPort, tlsConnectionOptions } from '@pharos/config';
import { AlertBus, loadKafkaSecurity, openAlertTopic, type GroupSubscription } from '@pharos/transport';
import {
  durationFlag,
  kafkaClientConfigOption,
  roleCommand,
  roleRuntime,
  runRoleCommand,
  type LogLevel,
} from '@pharos/observability';

const command = roleCommand(
  'pharos-alertmanager',
  'The alertmanager role: groups, inhibits, silences and routes alerts to receivers; serves the Alertmanager API v2.',
  [
    new Option('--config.file <path>', 'Alertmanager configuration file name.').default('alertmanager.yml'),
    new Option('--storage.path <dir>', 'Base path for data storage (silences, notification log).').default(
      'data/',
    ),
    new Option('--data.retention <duration>', 'How long to keep data for.').default('120h'),
    new Option('--web.listen-address <address>', 'Address to listen on for the API and telemetry.').default(
      '0.0.0.0:9093',
    ),
    new Option('--web.external-url <url>', 'The URL under which Alertmanager is externally reachable.'),
    new Option(
      '--cluster.peer-timeout <duration>',
      'Time to wait between peers to send notifications.',
    ).default('15s'),
    new Option(
      '--redis.url <url>',
      'Share silences, the notification log and alerts with the other replicas through this Redis (redis:// or rediss://); without it, state stays in --storage.path.',
    ).env('PHAROS_REDIS_URL'),
    new Option(
      '--cluster.name <name>',
      'Replicas with the same name share state (the Redis key prefix).',
    ).default('pharos-alertmanager'),
    new Option('--cluster.peer-name <name>', 'This replica among its peers (default: host:port).'),
    new Option(
      '--kafka.brokers <list>',
      'Also take the rulers’ alerts off the alert bus on these Kafka brokers (comma-separated).',
    ).env('PHAROS_KAFKA_BROKERS'),
    new Option('--kafka.alerts-topic <name>', 'The alert bus topic.').default('pharos.alerts'),
    kafkaClientConfigOption(),
    new Option(
      '--redis.client-config.file <path>',
      'Path to a file with tls_config, username and password(_file) for --redis.url.',
    ).env('PHAROS_REDIS_CLIENT_CONFIG_FILE'),
  ],
  async (opts) => {
    const { logger, registry, lifecycle } = roleRuntime('alertmanager', opts['log.level'] as LogLevel);
    const kafkaSecurity = loadKafkaSecurity(opts['kafka.client-config.file']);
    const redisFile = opts['redis.client-config.file'];
    const redis = redisFile ? loadRedisClientConfig(redisFile) : {};
    const { host, port } = splitHostPort(opts['web.listen-address']);
    const peerName = opts['cluster.peer-name'] ?? `${hostname()}:${port}`;
    const am = new Alertmanager({
      configFile: opts['config.file'],
      externalURL: (opts['web.external-url'] ?? `http://${hostname()}:${port}`).replace(/\/$/, ''),
      state: opts['redis.url']
        ? await RedisState.create({
            url: opts['redis.url'],
            ...(redis.tls ? { tls: tlsConnectionOptions(redis.tls) } : {}),
            username: redis.username,
            password: readSecret(redis.password),
            prefix: opts['cluster.name'],
            name: peerName,
            address: `${host}:${port}`,
            logger,
          })
        : new FileState(opts['storage.path'], logger),
      logger,
      registry,
      retention: durationFlag(opts, 'data.retention'),
      peerTimeout: durationFlag(opts, 'cluster.peer-timeout'),
    });
    await am.start();
    lifecycle.onStop('alertmanager', () => am.stop());
    if (opts['kafka.brokers']) consumeAlertTopic(am, opts['kafka.brokers'], opts['kafka.alerts-topic']);
    lifecycle.installSignalHandlers(() => {
      try {
        reloadLogged(am, logger);
      } catch {
        // Logged; the old configuration stays in force.
      }
    });
    let ready = false;
    const http = await serveAlertmanager(am, {
      host,
      port,
      registry,
      logger,
      ready: () => ready,
      webConfigFile: opts['web.config.file'],
    });
    lifecycle.onStop('http', async () => {
      ready = false;
      await http.close();
    });
    ready = true;

    // In the background: the API serves while the broker is away, and alerts wait in Kafka.
    function consumeAlertTopic(target: Alertmanager, brokers: string, topic: string): void {
      const opening = openAlertTopic(
        { brokers: brokers.split(',').map((b) => b.trim()), topic, security: kafkaSecurity },
        `pharos-alertmanager-${peerName}`,
        logger,
      );
      let closing = false;
      let log: Awaited<typeof opening> | undefined;
      let sub: GroupSubscription | undefined;
      lifecycle.onStop('alert-bus', async () => {
        closing = true;
        await sub?.stop();
        await log?.close();
      });
      void opening
        .then(async (l) => {
          log = l;
          if (closing) return;
          // A group per replica: every replica sees every alert, as from a Prometheus that lists them all.
          sub = await consumeAlertBus(target, new AlertBus(l), `${opts['cluster.name']}-${peerName}`, logger);
          logger.info({ topic }, 'consuming the alert bus');
        })
        .catch((e: unknown) => logger.error({ err: String(e) }, 'cannot consume the alert bus'));
    }
    logger.info({ receivers: am.config.receivers.length }, 'alertmanager serving');
  },
);

runRoleCommand(command);
