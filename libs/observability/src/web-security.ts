import { statSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  type ServerOptions,
} from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { loadWebConfig, type PemSource, type WebConfig, type WebTLSConfig } from '@pharos/config';
import { basicAuth, BcryptUsers } from './basic-auth.js';

/** How often the file (and the certificates it names) is looked at again for changes. */
const RECHECK_MS = 1000;

function readPem(src: PemSource): string {
  return 'inline' in src ? src.inline : readFileSync(src.file, 'utf8');
}

/** Node's TLS server options for a web config's tls_server_config; throws on unreadable files. */
export function tlsServerOptions(t: WebTLSConfig): ServerOptions {
  const requestCert = t.clientAuth !== 'NoClientCert';
  return {
    cert: readPem(t.cert),
    key: readPem(t.key),
    ...(t.clientCA ? { ca: readPem(t.clientCA) } : {}),
    requestCert,
    // Only this mode fails the handshake in OpenSSL itself; the others are checked once connected.
    rejectUnauthorized: t.clientAuth === 'RequireAndVerifyClientCert',
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ...(t.ciphers ? { ciphers: t.ciphers.join(':') } : {}),
    ...(t.curves ? { ecdhCurve: t.curves.join(':') } : {}),
    honorCipherOrder: t.preferServerCipherSuites,
  };
}

/** Why a connected client's certificate is refused under the config's client auth policy. */
export function clientCertProblem(t: WebTLSConfig, socket: TLSSocket): string | undefined {
  const peer = socket.getPeerCertificate();
  const presented = peer !== null && Object.keys(peer).length > 0;
  switch (t.clientAuth) {
    case 'RequireAnyClientCert':
      if (!presented) return 'client did not present a certificate';
      break;
    case 'VerifyClientCertIfGiven':
      if (presented && !socket.authorized)
        return `client certificate not verified: ${String(socket.authorizationError)}`;
      break;
    default:
      break;
  }
  if (t.clientAllowedSans) {
    if (!presented) return 'client did not present a certificate to match against client_allowed_sans';
    const sans = (peer.subjectaltname ?? '')
      .split(', ')
      .map((s) => s.slice(s.indexOf(':') + 1))
      .filter((s) => s !== '');
    if (!sans.some((s) => t.clientAllowedSans?.includes(s)))
      return `could not find allowed SANs in client cert, found: [${t.clientAllowedSans.join(' ')}]`;
  }
  return undefined;
}

/** A token bucket as golang.org/x/time/rate: one token per interval, at most `burst` saved. */
class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly interval: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  allow(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / this.interval);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A role's `--web.config.file`: the HTTP(S) server it is served from, and per-request headers,
 * rate limit and basic auth. Like upstream, changes to the file and to the certificates apply to
 * the next requests and connections without a restart; a file broken later answers 500 until fixed.
 */
export class WebSecurity {
  private config: WebConfig;
  private error: string | undefined;
  private fingerprint: string;
  private checkedAt = Date.now();
  private readonly users: BcryptUsers;
  private limiter: RateLimiter | undefined;
  /** Set when serving TLS: new certificates are swapped into it. */
  private tlsServer: HttpsServer | undefined;

  private constructor(
    private readonly path: string | undefined,
    private readonly logger: Logger,
  ) {
    this.config = path
      ? loadWebConfig(path)
      : { http2: false, headers: {}, rateLimit: { interval: 0, burst: 0 }, users: {} };
    this.fingerprint = this.currentFingerprint();
    this.limiter = this.newLimiter();
    this.users = new BcryptUsers(this.config.users);
    // Read once here so that an unreadable certificate refuses the start, not the first client.
    if (this.config.tls) tlsServerOptions(this.config.tls);
  }

  /** Reads and checks the file once; a bad file or unreadable certificate refuses to start. */
  static load(path: string | undefined, logger: Logger): WebSecurity {
    return new WebSecurity(path || undefined, logger);
  }

  get tlsEnabled(): boolean {
    return this.config.tls !== undefined;
  }

  /** For Fastify's serverFactory: HTTPS when the file configures TLS at start, as upstream decides. */
  createServer(handler: RequestListener): Server {
    const tls = this.config.tls;
    if (!tls) {
      return createHttpServer(handler);
    }
    const server = createHttpsServer(tlsServerOptions(tls), handler);
    server.on('secureConnection', (socket: TLSSocket) => {
      const current = this.config.tls;
      const problem = current ? clientCertProblem(current, socket) : undefined;
      if (problem) {
        this.logger.debug({ remote: socket.remoteAddress, reason: problem }, 'TLS client refused');
        socket.destroy();
      }
    });
    server.on('tlsClientError', (err) => this.logger.debug({ err: err.message }, 'TLS handshake failed'));
    this.tlsServer = server;
    return server;
  }

  /** Adds the checks to every route of `app`; call before routes are added. */
  install(app: FastifyInstance): void {
    if (!this.path) return;
    app.addHook('onRequest', async (req, reply) => this.check(req, reply));
    this.logger.info(
      { tls: this.tlsEnabled, basicAuth: Object.keys(this.config.users).length > 0 },
      'web config file loaded',
    );
  }

  private currentFingerprint(): string {
    if (!this.path) return '';
    const files = [this.path];
    const tls = this.config.tls;
    if (tls) for (const p of [tls.cert, tls.key, tls.clientCA]) if (p && 'file' in p) files.push(p.file);
    return files
      .map((f) => {
        try {
          const s = statSync(f);
          return `${f}:${s.mtimeMs}:${s.size}`;
        } catch {
          return `${f}:missing`;
        }
      })
      .join('|');
  }

  private newLimiter(): RateLimiter | undefined {
    const { interval, burst } = this.config.rateLimit;
    return interval > 0 ? new RateLimiter(interval, burst) : undefined;
  }

  private refresh(): void {
    if (!this.path || Date.now() - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = Date.now();
    const fp = this.currentFingerprint();
    if (fp === this.fingerprint && this.error === undefined) return;
    try {
      const next = loadWebConfig(this.path);
      if (next.tls && this.tlsServer) this.tlsServer.setSecureContext(tlsServerOptions(next.tls));
      const limitChanged =
        next.rateLimit.interval !== this.config.rateLimit.interval ||
        next.rateLimit.burst !== this.config.rateLimit.burst;
      this.config = next;
      if (limitChanged) this.limiter = this.newLimiter();
      this.users.replace(next.users);
      this.error = undefined;
      this.fingerprint = this.currentFingerprint();
      this.logger.info('web config file reloaded');
    } catch (e) {
      if (this.error === undefined)
        this.logger.error({ err: (e as Error).message }, 'Unable to parse configuration');
      this.error = (e as Error).message;
      this.fingerprint = fp;
    }
  }

  private async check(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    this.refresh();
    if (this.error !== undefined) {
      return reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error\n');
    }
    if (this.limiter && !this.limiter.allow()) {
      return reply.code(429).type('text/plain; charset=utf-8').send('Too Many Requests\n');
    }
    for (const [k, v] of Object.entries(this.config.headers)) reply.header(k, v);
    if (!this.users.enabled) return;
    const creds = basicAuth(req.headers.authorization);
    const outcome = creds ? await this.users.verify(creds.user, creds.pass, req.ip) : 'denied';
    if (outcome === 'ok') return;
    if (outcome === 'busy') {
      return reply
        .code(429)
        .type('text/plain; charset=utf-8')
        .send('Too Many Requests: password checks pending\n');
    }
    return reply
      .code(401)
      .header('WWW-Authenticate', 'Basic')
      .type('text/plain; charset=utf-8')
      .send('Unauthorized\n');
  }
}
