import { Command, InvalidArgumentError, Option } from 'commander';
import { parseByteSize, parseDuration } from '@pharos/config';

/**
 * A role's command line: its name and description plus the --log.level every role has. The
 * action gets the options by flag name as Prometheus spells them ("web.listen-address"), not
 * commander's camel-cased keys.
 */
export function roleCommand(
  name: string,
  description: string,
  options: readonly Option[],
  run: (opts: Record<string, string>) => Promise<void>,
): Command {
  const cmd = new Command(name).description(description);
  for (const o of options) cmd.addOption(o);
  cmd.addOption(
    new Option('--log.level <level>', 'Only log messages with the given severity or above.')
      .choices(['debug', 'info', 'warn', 'error'])
      .default('info'),
  );
  cmd.addOption(
    new Option(
      '--web.config.file <path>',
      '[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.',
    ).env('PHAROS_WEB_CONFIG_FILE'),
  );
  withEnvVars(cmd);
  return cmd.action(async (raw: Record<string, unknown>) => {
    const opts: Record<string, string> = {};
    for (const o of cmd.options) {
      const v = raw[o.attributeName()];
      if (o.long && v !== undefined) opts[o.long.slice(2)] = String(v);
    }
    await run(opts);
  });
}

/** --grpc.config.file: TLS and basic auth for the role's gRPC server, in the web config format. */
export function grpcServerConfigOption(): Option {
  return new Option(
    '--grpc.config.file <path>',
    'Path to a file in the --web.config.file format that enables TLS or basic auth on the gRPC server.',
  ).env('PHAROS_GRPC_CONFIG_FILE');
}

/** --grpc.client-config.file: TLS and basic auth the role uses to call other roles over gRPC. */
export function grpcClientConfigOption(): Option {
  return new Option(
    '--grpc.client-config.file <path>',
    'Path to a file with tls_config and basic_auth for calls to other roles over gRPC.',
  ).env('PHAROS_GRPC_CLIENT_CONFIG_FILE');
}

/** --kafka.client-config.file: TLS and SASL for the role's connections to the Kafka brokers. */
export function kafkaClientConfigOption(): Option {
  return new Option(
    '--kafka.client-config.file <path>',
    'Path to a file with tls_config and sasl (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) for the Kafka brokers.',
  ).env('PHAROS_KAFKA_CLIENT_CONFIG_FILE');
}

/** The environment variable of a flag: `--storage.tsdb.retention.time` is PHAROS_STORAGE_TSDB_RETENTION_TIME. */
export function envVarOf(flag: string): string {
  return `PHAROS_${flag
    .replace(/^--/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()}`;
}

/**
 * Every flag of `cmd` that names no environment variable of its own takes the one `envVarOf`
 * gives it, so a container sets any flag the same way; a flag on the command line wins. Call it
 * once every option is added.
 */
export function withEnvVars(cmd: Command): Command {
  // Commander reads a variable only for options that named it before they were added, and turns
  // a switch on whenever its variable is set, "false" included: both are read here instead.
  const ours: Option[] = [];
  for (const o of cmd.options) {
    if (!o.long) continue;
    const isSwitch = !o.required && !o.optional;
    if (!o.envVar) {
      o.env(envVarOf(o.long));
      ours.push(o);
    } else if (isSwitch) ours.push(o);
  }
  cmd.hook('preAction', () => {
    for (const o of ours) {
      const name = o.envVar as string;
      const raw = process.env[name];
      const key = o.attributeName();
      if (raw === undefined || cmd.getOptionValueSource(key) === 'cli') continue;
      let value: unknown;
      try {
        value = envValue(o, name, raw);
      } catch (e) {
        // One line and exit 1, as commander answers a bad value on the command line.
        cmd.error(`error: ${(e as Error).message}`);
      }
      cmd.setOptionValueWithSource(key, value, 'env');
    }
  });
  return cmd;
}

function envValue(o: Option, name: string, raw: string): unknown {
  if (!o.required && !o.optional) {
    const v = raw.trim().toLowerCase();
    if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0' && v !== '')
      throw new Error(`${name}=${JSON.stringify(raw)}: ${o.long} takes true or false`);
    return v === 'true' || v === '1';
  }
  if (o.argChoices && !o.argChoices.includes(raw))
    throw new Error(`${name}=${JSON.stringify(raw)}: ${o.long} takes one of ${o.argChoices.join(', ')}`);
  if (!o.parseArg) return raw;
  try {
    return o.parseArg(raw, undefined);
  } catch (e) {
    throw new Error(`${name}=${JSON.stringify(raw)}: ${(e as Error).message}`);
  }
}

/** Parses a role's command line and runs it; a failure to start is one line on stderr and exit 1. */
export function runRoleCommand(cmd: Command): void {
  cmd.parseAsync(process.argv).catch((e: unknown) => {
    const message = e instanceof Error ? (process.env.PHAROS_DEBUG ? e.stack : e.message) : String(e);
    process.stderr.write(`${cmd.name()}: ${message}\n`);
    process.exit(1);
  });
}

/** A flag that must be a positive integer, by its Prometheus-style name. */
export function positiveIntFlag(opts: Readonly<Record<string, string>>, name: string): number {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** A flag that must be an integer of 0 or more (0 usually meaning no limit). */
export function nonNegativeIntFlag(opts: Readonly<Record<string, string>>, name: string): number {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

/** A duration flag ("1m30s") in milliseconds; a bad one names the flag. */
export function durationFlag(opts: Readonly<Record<string, string>>, name: string): number {
  try {
    return parseDuration(opts[name]);
  } catch (e) {
    throw new Error(`--${name}: ${(e as Error).message}`);
  }
}

/**
 * Argument parsers for commander options: a bad value is refused as it is parsed, and commander
 * prints it as one line naming the option (InvalidArgumentError) rather than a stack.
 */
function refusing(check: (v: string) => unknown): (v: string) => string {
  return (v) => {
    try {
      check(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    return v;
  };
}

export const flagArg = {
  duration: refusing(parseDuration),
  byteSize: refusing(parseByteSize),
  /** A whole number of `min` (0 or 1) or more. */
  int(min: 0 | 1): (v: string) => string {
    return refusing((v) => {
      if (!(min === 0 ? /^\d+$/ : /^[1-9]\d*$/).test(v))
        throw new Error(`not a ${min === 0 ? 'non-negative' : 'positive'} integer: ${JSON.stringify(v)}`);
    });
  },
};
