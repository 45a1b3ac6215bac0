import { createGunzip } from 'node:zlib';
import { readSecret, type HTTPClientConfig } from '@pharos/config';
import { Agent, interceptors, request, type Dispatcher } from 'undici';

export interface FetchOptions {
  readonly accept: string;
  readonly timeout: number;
  /** 0: no limit. Applies to the uncompressed body, as in Prometheus. */
  readonly bodySizeLimit: number;
  readonly compression: boolean;
  readonly userAgent: string;
  readonly authorization?: string;
  /** A buffer the caller keeps between scrapes for the raw body, grown as needed. */
  readonly scratch?: { buf: Buffer };
}

export interface FetchResult {
  readonly body: string;
  readonly contentType: string | undefined;
}

export class ScrapeError extends Error {}

/** The Authorization header of basic_auth or authorization, if either is configured. */
export function authorizationHeader(http: HTTPClientConfig): string | undefined {
  if (http.basicAuth) {
    const user = readSecret(http.basicAuth.username) ?? '';
    const pass = readSecret(http.basicAuth.password) ?? '';
    return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  if (http.authorization) {
    const creds = readSecret(http.authorization.credentials);
    return creds !== undefined ? `${http.authorization.type} ${creds}` : undefined;
  }
  return undefined;
}

const TLS_VERSION = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

/**
 * A connection pool for one scrape config: its tls_config and follow_redirects. HTTP/1.1 only:
 * undici's HTTP/2 support is still experimental, and exporters speak HTTP/1.1 anyway.
 */
export function scrapeDispatcher(http: Pick<HTTPClientConfig, 'tls' | 'followRedirects'>): Dispatcher {
  const tls = http.tls;
  const agent = new Agent({
    keepAliveTimeout: 60_000,
    connections: 16,
    connect: {
      ca: readSecret(tls.ca),
      cert: readSecret(tls.cert),
      key: readSecret(tls.key),
      servername: tls.serverName,
      rejectUnauthorized: !tls.insecureSkipVerify,
      minVersion: tls.minVersion ? TLS_VERSION[tls.minVersion] : undefined,
      maxVersion: tls.maxVersion ? TLS_VERSION[tls.maxVersion] : undefined,
    },
  });
  return http.followRedirects ? agent.compose(interceptors.redirect({ maxRedirections: 10 })) : agent;
}

/**
 * The most a body may decode to whatever body_size_limit says: V8 holds no longer string, so a
 * larger body could never be parsed; refusing it as it is decoded keeps a gzip bomb (a few KiB
 * expanding to gigabytes) from ever being held.
 */
const MAX_BODY = 0x1fffffe8;

const tooBig = (n: number) =>
  `body of ${n} bytes is larger than the ${MAX_BODY} bytes a scrape can hold (set body_size_limit lower)`;

/**
 * Decodes a gzip body in pieces, stopping as soon as it passes the limit. The size gzip's
 * trailer states refuses an honest bomb before anything is decoded; a lying trailer is caught by
 * the count as the pieces come.
 */
async function gunzipCapped(gz: Buffer, bodySizeLimit: number): Promise<Buffer> {
  const limit = bodySizeLimit > 0 ? Math.min(bodySizeLimit, MAX_BODY) : MAX_BODY;
  const refuse = (n: number) =>
    new ScrapeError(bodySizeLimit > 0 && n > bodySizeLimit ? 'body size limit exceeded' : tooBig(n));
  // ISIZE is the size modulo 2^32: a small one proves nothing, a large one is a lower bound.
  const stated = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  if (stated > limit) throw refuse(stated);
  const pieces: Buffer[] = [];
  let size = 0;
  const inflate = createGunzip();
  try {
    inflate.end(gz);
    for await (const piece of inflate) {
      const b = piece as Buffer;
      size += b.length;
      if (size > limit) throw refuse(size);
      pieces.push(b);
    }
  } catch (e) {
    if (e instanceof ScrapeError) throw e;
    throw new ScrapeError(`error decompressing gzip body: ${(e as Error).message}`);
  } finally {
    inflate.destroy();
  }
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size);
}

/** One scrape request: GET with negotiation headers, bounded in time and size. */
export async function fetchMetrics(
  url: string,
  opts: FetchOptions,
  dispatcher: Dispatcher,
): Promise<FetchResult> {
  const signal = AbortSignal.timeout(opts.timeout);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      dispatcher,
      signal,
      headers: {
        accept: opts.accept,
        'accept-encoding': opts.compression ? 'gzip' : 'identity',
        'user-agent': opts.userAgent,
        'x-prometheus-scrape-timeout-seconds': String(opts.timeout / 1000),
        ...(opts.authorization !== undefined ? { authorization: opts.authorization } : {}),
      },
    });
  } catch (e) {
    throw new ScrapeError(describeError(e, url, opts.timeout));
  }
  try {
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new ScrapeError(`server returned HTTP status ${res.statusCode} ${statusText(res.statusCode)}`);
    }
    // The body goes into the caller's buffer: a big target's body is megabytes every scrape, and
    // a new buffer each time is work for the garbage collector.
    const scratch = opts.scratch ?? { buf: Buffer.alloc(0) };
    let size = 0;
    const gz = String(res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
    for await (const chunk of res.body) {
      const c = chunk as Buffer;
      if (!gz && opts.bodySizeLimit > 0 && size + c.length > opts.bodySizeLimit) {
        res.body.destroy();
        throw new ScrapeError(`body size limit exceeded`);
      }
      if (size + c.length > MAX_BODY) {
        res.body.destroy();
        throw new ScrapeError(tooBig(size + c.length));
      }
      if (size + c.length > scratch.buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(size + c.length, scratch.buf.length * 2, 64 * 1024));
        scratch.buf.copy(grown, 0, 0, size);
        scratch.buf = grown;
      }
      c.copy(scratch.buf, size);
      size += c.length;
    }
    let buf = scratch.buf.subarray(0, size);
    if (gz) buf = await gunzipCapped(buf, opts.bodySizeLimit);
    const ct = res.headers['content-type'];
    const body = buf.toString('utf8');
    // A target whose body shrank for good should not pin its largest body's memory.
    if (scratch.buf.length > 1 << 20 && scratch.buf.length > 4 * size) scratch.buf = Buffer.alloc(0);
    return { body, contentType: Array.isArray(ct) ? ct[0] : ct };
  } catch (e) {
    if (e instanceof ScrapeError) throw e;
    throw new ScrapeError(describeError(e, url, opts.timeout));
  }
}

function describeError(e: unknown, url: string, timeout: number): string {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return `Get "${url}": context deadline exceeded (timeout ${timeout / 1000}s)`;
  }
  const code = err.code ?? err.cause?.code;
  if (code === 'ECONNREFUSED') return `Get "${url}": dial tcp: connection refused`;
  return `Get "${url}": ${err.message}`;
}

function statusText(code: number): string {
  const texts: Record<number, string> = {
    301: 'Moved Permanently',
    302: 'Found',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[code] ?? '';
}
