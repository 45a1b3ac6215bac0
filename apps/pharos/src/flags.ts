import { join } from 'node:path';
import { Command, Option } from 'commander';
import { splitHostPort } from '@pharos/config';
import { DEFAULT_MAX_SAMPLES_PER_REQUEST, parseQueryFlags, queryOptions, type QueryFlags } from '@pharos/api';
import { parseStorageFlags, storageOptions, type StorageFlags } from '@pharos/ingest';
import { flagArg, grpcServerConfigOption, withEnvVars } from '@pharos/observability';
import { parseRuleFlags, ruleOptions, type RuleFlags } from '@pharos/rules';

export interface ServerFlags {
  readonly configFile: string;
  /** The storage flags, as the ingester role has them. */
  readonly storage: StorageFlags;
  readonly shards: number;
  readonly listenAddress: string;
  /** Empty: no gRPC server. */
  readonly grpcListenAddress: string;
  readonly enableLifecycle: boolean;
  readonly enableAdminApi: boolean;
  readonly enableRemoteWriteReceiver: boolean;
  readonly remoteWriteMaxSamples: number;
  /** The query flags, as the querier has them. */
  readonly query: QueryFlags;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly webConfigFile: string | undefined;
  readonly grpcConfigFile: string | undefined;
  /** --web.external-url; empty: derived from the listen address. */
  readonly externalURL: string;
  /** The rule and notifier flags, as the ruler has them. */
  readonly rules: RuleFlags;
  /** The embedded Alertmanager: its alertmanager.yml ('' runs none), address and state directory. */
  readonly alertmanagerConfigFile: string;
  readonly alertmanagerListenAddress: string;
  readonly alertmanagerStoragePath: string;
  /** Every flag as given or defaulted, for /api/v1/status/flags. */
  readonly all: Record<string, string>;
}

/** Prometheus-style flags for the all-in-one server. */
export function serverCommand(run: (flags: ServerFlags) => Promise<void>): Command {
  const cmd = new Command('pharos')
    .description('Pharos: Prometheus-compatible monitoring. Runs every role in one process (embedded mode).')
    .addOption(
      new Option('--config.file <path>', 'Prometheus configuration file path.').default('prometheus.yml'),
    )
    .addOption(new Option('--storage.path <path>', 'Alias of --storage.tsdb.path.'))
    .addOption(
      new Option(
        '--storage.tsdb.shards <n>',
        'Number of storage shards (partitions of the sample bus); fixed when the directory is created.',
      )
        .default('2')
        .argParser(flagArg.int(1)),
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
        .argParser(flagArg.int(1)),
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
        '--web.external-url <url>',
        'The URL under which Pharos is externally reachable (for generator URLs of alerts).',
      ),
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
    .showHelpAfterError();
  // The storage, query and rule flags are the ingester's, the querier's and the ruler's, defined
  // once for both modes.
  for (const o of [...storageOptions(), ...queryOptions(), ...ruleOptions()]) cmd.addOption(o);
  withEnvVars(cmd);
  cmd.action(async (raw: Record<string, string | boolean | undefined>) => {
    // Commander camel-cases after hyphens; key the values by the flag as the user writes it.
    const opts: Record<string, string | boolean | undefined> = {};
    for (const o of cmd.options) if (o.long) opts[o.long.slice(2)] = raw[o.attributeName()];
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) all[k] = String(v);
    const storagePath = String(opts['storage.path'] ?? opts['storage.tsdb.path']);
    await run({
      configFile: String(opts['config.file']),
      storage: parseStorageFlags(opts, storagePath),
      shards: Number(opts['storage.tsdb.shards']),
      listenAddress: String(opts['web.listen-address']),
      grpcListenAddress: String(opts['grpc.listen-address']),
      enableLifecycle: opts['web.enable-lifecycle'] === true,
      enableAdminApi: opts['web.enable-admin-api'] === true,
      webConfigFile: opts['web.config.file'] === undefined ? undefined : String(opts['web.config.file']),
      grpcConfigFile: opts['grpc.config.file'] === undefined ? undefined : String(opts['grpc.config.file']),
      enableRemoteWriteReceiver: opts['web.enable-remote-write-receiver'] === true,
      remoteWriteMaxSamples: Number(opts['remote-write.max-samples-per-request']),
      query: parseQueryFlags(opts),
      logLevel: opts['log.level'] as ServerFlags['logLevel'],
      externalURL: String(opts['web.external-url'] ?? ''),
      rules: parseRuleFlags(opts),
      alertmanagerConfigFile: String(opts['alertmanager.config.file'] ?? ''),
      alertmanagerListenAddress: String(opts['alertmanager.listen-address']),
      alertmanagerStoragePath: String(opts['alertmanager.storage.path'] ?? join(storagePath, 'alertmanager')),
      all,
    });
  });
  return cmd;
}

export { splitHostPort };
