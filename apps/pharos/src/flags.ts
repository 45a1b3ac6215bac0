import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseByteSize, parseDuration, splitHostPort } from '@pharos/config';
import { DEFAULT_MAX_SAMPLES_PER_REQUEST } from '@pharos/api';
import { grpcServerConfigOption } from '@pharos/observability';

export interface ServerFlags {
  readonly configFile: string;
  readonly storagePath: string;
  readonly shards: number;
  /** 0: no limit of that kind. */
  readonly retentionTime: number;
  readonly retentionSize: number;
  readonly outOfOrderWindow: number;
  /** --storage.tsdb.max-head-series; 0: no limit. */
  readonly maxHeadSeries: number;
  readonly checkpointInterval: number;
  readonly listenAddress: string;
  /** Empty: no gRPC server. */
  readonly grpcListenAddress: string;
  readonly enableLifecycle: boolean;
  readonly enableAdminApi: boolean;
  readonly enableRemoteWriteReceiver: boolean;
  readonly remoteWriteMaxSamples: number;
  readonly lookbackDelta: number;
  readonly queryTimeout: number;
  readonly queryMaxSamples: number;
  readonly queryMaxSeries: number;
  readonly queryMaxConcurrency: number;
  /** --enable-feature values, as Prometheus takes them (comma-separated, repeatable). */
  readonly features: ReadonlySet<string>;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly webConfigFile: string | undefined;
  readonly grpcConfigFile: string | undefined;
  /** --web.external-url; empty: derived from the listen address. */
  readonly externalURL: string;
  readonly alertForOutageTolerance: number;
  readonly alertForGracePeriod: number;
  readonly alertResendDelay: number;
  readonly notificationQueueCapacity: number;
  /** The embedded Alertmanager: its alertmanager.yml ('' runs none), address and state directory. */
  readonly alertmanagerConfigFile: string;
  readonly alertmanagerListenAddress: string;
  readonly alertmanagerStoragePath: string;
  /** Every flag as given or defaulted, for /api/v1/status/flags. */
  readonly all: Record<string, string>;
}

function duration(v: string): string {
  parseDuration(v);
  return v;
}

function byteSize(v: string): string {
  parseByteSize(v);
  return v;
}

function nonNegativeInt(v: string): string {
  if (!/^\d+$/.test(v)) throw new Error(`not a non-negative integer: ${JSON.stringify(v)}`);
  return v;
}

function positiveInt(v: string): string {
  if (!/^[1-9]\d*$/.test(v)) throw new Error(`not a positive integer: ${JSON.stringify(v)}`);
  return v;
}

const DEFAULT_RETENTION = '15d';

/** Prometheus-style flags for the all-in-one server. */
export function serverCommand(run: (flags: ServerFlags) => Promise<void>): Command {
  const cmd = new Command('pharos')
    .description('Pharos: Prometheus-compatible monitoring. Runs every role in one process (embedded mode).')
    .addOption(
      new Option('--config.file <path>', 'Prometheus configuration file path.').default('prometheus.yml'),
    )
    .addOption(new Option('--storage.tsdb.path <path>', 'Base path for metrics storage.').default('data/'))
    .addOption(new Option('--storage.path <path>', 'Alias of --storage.tsdb.path.'))
    .addOption(
      new Option(
        '--storage.tsdb.retention.time <duration>',
        `How long to retain samples in storage. If neither this flag nor "storage.tsdb.retention.size" is set, the retention time defaults to ${DEFAULT_RETENTION}.`,
      ).argParser(duration),
    )
    .addOption(
      new Option(
        '--storage.tsdb.retention.size <size>',
        'Maximum number of bytes that can be stored for blocks. A unit is required: B, KB, MB, GB, TB, PB, EB.',
      ).argParser(byteSize),
    )
    .addOption(
      new Option(
        '--storage.tsdb.out-of-order-time-window <duration>',
        'How far behind the newest sample an out-of-order sample is still accepted (0: rejected).',
      )
        .default('0s')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--storage.tsdb.max-head-series <n>',
        'Most series the head holds over all shards; samples of further new series are refused, naming the limit (0: no limit).',
      )
        .default('0')
        .argParser(nonNegativeInt),
    )
    .addOption(
      new Option(
        '--storage.tsdb.shards <n>',
        'Number of storage shards (partitions of the sample bus); fixed when the directory is created.',
      )
        .default('2')
        .argParser(positiveInt),
    )
    .addOption(
      new Option(
        '--storage.tsdb.checkpoint-interval <duration>',
        'How often open head chunks are written to LevelDB and the write-ahead log truncated.',
      )
        // Each checkpoint rewrites every open chunk, so its cost per sample falls with the interval;
        // 5m cut the scrape bench's CPU by about 30% against 1m, and a restart replays at most five
        // minutes of log (100k series: 1.2 s, against 0.8 s for one minute). Prometheus replays
        // up to three hours.
        .default('5m')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--web.listen-address <address>',
        'Address to listen on for the UI, API and telemetry.',
      ).default('0.0.0.0:9090'),
    )
    .addOption(
      new Option(
        '--grpc.listen-address <address>',
        "Address for the gRPC services (Query; Ingester Push only with the remote write receiver); loopback unless set, empty to serve none. Without --grpc.config.file it takes --web.config.file's TLS and users.",
      ).default('127.0.0.1:9095'),
    )
    .addOption(
      new Option(
        '--web.enable-remote-write-receiver',
        'Enable API endpoint accepting remote write requests.',
      ).default(false),
    )
    .addOption(
      new Option(
        '--remote-write.max-samples-per-request <n>',
        'Remote write requests with more samples are refused with 400.',
      )
        .default(String(DEFAULT_MAX_SAMPLES_PER_REQUEST))
        .argParser(positiveInt),
    )
    .addOption(
      new Option('--web.enable-lifecycle', 'Enable shutdown and reload via HTTP request.').default(false),
    )
    .addOption(
      new Option('--web.enable-admin-api', 'Enable API endpoints for admin control actions.').default(false),
    )
    .addOption(
      new Option(
        '--web.config.file <path>',
        '[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.',
      ),
    )
    .addOption(grpcServerConfigOption())
    .addOption(
      new Option(
        '--query.lookback-delta <duration>',
        'How far back to look for a sample in an instant selector.',
      )
        .default('5m')
        .argParser(duration),
    )
    .addOption(
      new Option('--query.timeout <duration>', 'Maximum time a query may take before being aborted.')
        .default('2m')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--query.max-samples <n>',
        'Maximum number of samples a single query can load into memory.',
      ).default('50000000'),
    )
    .addOption(
      new Option(
        '--query.max-series <n>',
        'Maximum number of series a single query may select; 0 for no limit.',
      )
        .default('0')
        .argParser(nonNegativeInt),
    )
    .addOption(
      new Option('--query.max-concurrency <n>', 'Maximum number of queries executed concurrently.')
        .default('20')
        .argParser(positiveInt),
    )
    .addOption(
      new Option(
        '--enable-feature <name>',
        'Comma separated feature names to enable. Valid option: promql-delayed-name-removal.',
      ).argParser((v: string, prev: string | undefined) => (prev ? `${prev},${v}` : v)),
    )
    .addOption(
      new Option(
        '--web.external-url <url>',
        'The URL under which Pharos is externally reachable (for generator URLs of alerts).',
      ),
    )
    .addOption(
      new Option(
        '--rules.alert.for-outage-tolerance <duration>',
        'Max time to tolerate prometheus outage for restoring "for" state of alert.',
      )
        .default('1h')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--rules.alert.for-grace-period <duration>',
        'Minimum duration between alert and restored "for" state. This is maintained only for alerts with configured "for" time greater than grace period.',
      )
        .default('10m')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--rules.alert.resend-delay <duration>',
        'Minimum amount of time to wait before resending an alert to Alertmanager.',
      )
        .default('1m')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--alertmanager.notification-queue-capacity <n>',
        'The capacity of the queue for pending Alertmanager notifications.',
      )
        .default('10000')
        .argParser(positiveInt),
    )
    .addOption(
      new Option(
        '--alertmanager.config.file <path>',
        'alertmanager.yml of the embedded Alertmanager, which the ruler sends its alerts to in-process; none runs without it.',
      ).default(''),
    )
    .addOption(
      new Option(
        '--alertmanager.listen-address <address>',
        'Where the embedded Alertmanager serves its API v2.',
      ).default('0.0.0.0:9093'),
    )
    .addOption(
      new Option(
        '--alertmanager.storage.path <dir>',
        'Silences and notification log of the embedded Alertmanager (default: alertmanager/ under the TSDB path).',
      ),
    )
    .addOption(
      new Option('--log.level <level>', 'Only log messages with the given severity or above.')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .showHelpAfterError()
    .action(async (raw: Record<string, string | boolean | undefined>) => {
      // Commander camel-cases after hyphens; key the values by the flag as the user writes it.
      const opts: Record<string, string | boolean | undefined> = {};
      for (const o of cmd.options) if (o.long) opts[o.long.slice(2)] = raw[o.attributeName()];
      const maxSamples = Number(opts['query.max-samples']);
      if (!Number.isInteger(maxSamples) || maxSamples <= 0)
        cmd.error('error: --query.max-samples must be a positive integer');
      const all: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts)) if (v !== undefined) all[k] = String(v);
      const retentionTime = opts['storage.tsdb.retention.time'];
      const retentionSize = opts['storage.tsdb.retention.size'];
      await run({
        configFile: String(opts['config.file']),
        storagePath: String(opts['storage.path'] ?? opts['storage.tsdb.path']),
        shards: Number(opts['storage.tsdb.shards']),
        retentionTime: parseDuration(
          String(retentionTime ?? (retentionSize === undefined ? DEFAULT_RETENTION : '0')),
        ),
        retentionSize: retentionSize === undefined ? 0 : parseByteSize(String(retentionSize)),
        outOfOrderWindow: parseDuration(String(opts['storage.tsdb.out-of-order-time-window'])),
        maxHeadSeries: Number(opts['storage.tsdb.max-head-series']),
        checkpointInterval: parseDuration(String(opts['storage.tsdb.checkpoint-interval'])),
        listenAddress: String(opts['web.listen-address']),
        grpcListenAddress: String(opts['grpc.listen-address']),
        enableLifecycle: opts['web.enable-lifecycle'] === true,
        enableAdminApi: opts['web.enable-admin-api'] === true,
        webConfigFile: opts['web.config.file'] === undefined ? undefined : String(opts['web.config.file']),
        grpcConfigFile: opts['grpc.config.file'] === undefined ? undefined : String(opts['grpc.config.file']),
        enableRemoteWriteReceiver: opts['web.enable-remote-write-receiver'] === true,
        remoteWriteMaxSamples: Number(opts['remote-write.max-samples-per-request']),
        lookbackDelta: parseDuration(String(opts['query.lookback-delta'])),
        queryTimeout: parseDuration(String(opts['query.timeout'])),
        queryMaxSamples: maxSamples,
        queryMaxSeries: Number(opts['query.max-series']),
        queryMaxConcurrency: Number(opts['query.max-concurrency']),
        features: new Set(
          String(opts['enable-feature'] ?? '')
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x !== ''),
        ),
        logLevel: opts['log.level'] as ServerFlags['logLevel'],
        externalURL: String(opts['web.external-url'] ?? ''),
        alertForOutageTolerance: parseDuration(String(opts['rules.alert.for-outage-tolerance'])),
        alertForGracePeriod: parseDuration(String(opts['rules.alert.for-grace-period'])),
        alertResendDelay: parseDuration(String(opts['rules.alert.resend-delay'])),
        notificationQueueCapacity: Number(opts['alertmanager.notification-queue-capacity']),
        alertmanagerConfigFile: String(opts['alertmanager.config.file'] ?? ''),
        alertmanagerListenAddress: String(opts['alertmanager.listen-address']),
        alertmanagerStoragePath: String(
          opts['alertmanager.storage.path'] ??
            join(String(opts['storage.path'] ?? opts['storage.tsdb.path']), 'alertmanager'),
        ),
        all,
      });
    });
  return cmd;
}

export { splitHostPort };
