import { readFileSync } from 'node:fs';
import {
  credentials,
  Metadata,
  ResponderBuilder,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ChannelCredentials,
  type ChannelOptions,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  grpcServerConfigFromWeb,
  loadGrpcClientConfig,
  loadGrpcServerConfig,
  loadWebConfig,
  readSecret,
  type GrpcServerConfig,
  type PemSource,
} from '@pharos/config';
import { basicAuth, BcryptUsers, type AuthOutcome } from '@pharos/observability';

function readPem(src: PemSource): Buffer {
  return 'inline' in src ? Buffer.from(src.inline) : readFileSync(src.file);
}

/**
 * A role's gRPC server as `--grpc.config.file` sets it up: TLS (optionally requiring a client
 * certificate from the given CA) and bcrypt basic auth checked on every call's metadata. Files
 * are read once at start; certificates rotate with a restart.
 */
export class GrpcServerSecurity {
  private constructor(
    private readonly config: GrpcServerConfig,
    private readonly users: BcryptUsers,
  ) {}

  /**
   * Reads and checks the file and its certificates; a bad one refuses the start. Without one,
   * `followWeb` (the all-in-one's --web.config.file) gives gRPC the web server's TLS and users,
   * so a process whose web is locked does not serve an open gRPC port beside it.
   */
  static load(path: string | undefined, logger: Logger, followWeb?: string): GrpcServerSecurity {
    let config: GrpcServerConfig = { users: {} };
    if (path) config = loadGrpcServerConfig(path);
    else if (followWeb) {
      const web = grpcServerConfigFromWeb(loadWebConfig(followWeb), followWeb);
      config = web.config;
      if (web.notCarried.length > 0)
        logger.warn(
          { file: followWeb, notCarried: web.notCarried },
          'gRPC follows the web config, but has no counterpart for these; give --grpc.config.file to say so explicitly',
        );
    }
    const security = new GrpcServerSecurity(config, new BcryptUsers(config.users));
    security.credentials();
    if (path || followWeb)
      logger.info(
        { file: path ?? followWeb, tls: config.tls !== undefined, basicAuth: security.users.enabled },
        path ? 'gRPC config file loaded' : 'gRPC follows the web config (no --grpc.config.file)',
      );
    return security;
  }

  /** A server that checks the credentials of every call before its handler sees it. */
  newServer(): Server {
    return new Server(this.users.enabled ? { interceptors: [this.authInterceptor()] } : {});
  }

  credentials(): ServerCredentials {
    const t = this.config.tls;
    if (!t) return ServerCredentials.createInsecure();
    return ServerCredentials.createSsl(
      t.clientCA ? readPem(t.clientCA) : null,
      [{ cert_chain: readPem(t.cert), private_key: readPem(t.key) }],
      t.requireClientCert,
    );
  }

  private authInterceptor(): ServerInterceptor {
    return (_method, call) => {
      const listener = new ServerListenerBuilder()
        .withOnReceiveMetadata((md, next) => {
          const header = md.get('authorization')[0];
          const creds = basicAuth(typeof header === 'string' ? header : undefined);
          const outcome = creds
            ? this.users.verify(creds.user, creds.pass, call.getPeer())
            : Promise.resolve<AuthOutcome>('denied');
          // Settled either way: a failed check answers the call rather than leaving it hanging.
          void outcome
            .catch((): AuthOutcome => 'busy')
            .then((o) => {
              if (o === 'ok') next(md);
              else if (o === 'busy')
                call.sendStatus({ code: status.RESOURCE_EXHAUSTED, details: 'password checks pending' });
              else call.sendStatus({ code: status.UNAUTHENTICATED, details: 'Unauthorized' });
            });
        })
        .build();
      return new ServerInterceptingCall(
        call,
        new ResponderBuilder().withStart((next) => next(listener)).build(),
      );
    };
  }
}

/** How a role dials other roles' gRPC servers. */
export interface GrpcChannelSecurity {
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
}

export function insecureChannel(): GrpcChannelSecurity {
  return { credentials: credentials.createInsecure(), options: {} };
}

/**
 * `--grpc.client-config.file` as channel credentials: TLS with the given CA, client certificate
 * and server name, and basic auth as call credentials. Certificates are read here, so an
 * unreadable one refuses the start; the password file is read at each call, so it can rotate.
 */
export function loadGrpcChannelSecurity(path: string | undefined): GrpcChannelSecurity {
  if (!path) return insecureChannel();
  const c = loadGrpcClientConfig(path);
  if (!c.tls) return insecureChannel();
  const t = c.tls;
  const pem = (s: Parameters<typeof readSecret>[0]) => {
    const v = readSecret(s);
    return v === undefined ? null : Buffer.from(v);
  };
  let creds = credentials.createSsl(
    pem(t.ca),
    pem(t.key),
    pem(t.cert),
    t.insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
  const auth = c.basicAuth;
  if (auth) {
    creds = creds.compose(
      credentials.createFromMetadataGenerator((_params, callback) => {
        try {
          const user = readSecret(auth.username) ?? '';
          const pass = readSecret(auth.password) ?? '';
          const md = new Metadata();
          md.set('authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
          callback(null, md);
        } catch (e) {
          callback(e as Error);
        }
      }),
    );
  }
  const options: ChannelOptions = t.serverName
    ? { 'grpc.ssl_target_name_override': t.serverName, 'grpc.default_authority': t.serverName }
    : {};
  return { credentials: creds, options };
}
