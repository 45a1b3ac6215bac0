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
  loadGrpcClientConfig,
  loadGrpcServerConfig,
  readSecret,
  type GrpcServerConfig,
  type PemSource,
} from '@pharos/config';
import { basicAuth, BcryptUsers } from '@pharos/observability';

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

  /** Reads and checks the file and its certificates; a bad one refuses the start. */
  static load(path: string | undefined, logger: Logger): GrpcServerSecurity {
    const config: GrpcServerConfig = path ? loadGrpcServerConfig(path) : { users: {} };
    const security = new GrpcServerSecurity(config, new BcryptUsers(config.users));
    security.credentials();
    if (path)
      logger.info(
        { tls: config.tls !== undefined, basicAuth: security.users.enabled },
        'gRPC config file loaded',
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
          void (creds ? this.users.verify(creds.user, creds.pass) : Promise.resolve(false)).then((ok) => {
            if (ok) next(md);
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
