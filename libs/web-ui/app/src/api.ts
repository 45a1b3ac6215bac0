/** The Prometheus HTTP API envelope. */
interface Envelope<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

export class ApiError extends Error {}

export interface ApiResult<T> {
  readonly data: T;
  readonly warnings: readonly string[];
  readonly infos: readonly string[];
}

export type Params = Record<string, string | readonly string[] | undefined>;

function query(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const x of typeof v === 'string' ? [v] : v) q.append(k, x);
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** GETs a Prometheus API v1 path; an error answer becomes an ApiError with the server's text. */
export async function api<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<ApiResult<T>> {
  const res = await fetch(`${path}${query(params)}`, { signal, headers: { accept: 'application/json' } });
  let body: Envelope<T>;
  try {
    body = (await res.json()) as Envelope<T>;
  } catch {
    throw new ApiError(`${res.status} ${res.statusText}: the answer is not JSON`);
  }
  if (body.status !== 'success')
    throw new ApiError(`${body.errorType ?? 'error'}: ${body.error ?? res.statusText}`);
  return { data: body.data, warnings: body.warnings ?? [], infos: body.infos ?? [] };
}

/** Alertmanager API v2: plain JSON, errors as a JSON string or text. */
export async function amApi<T>(path: string, init: RequestInit & { params?: Params } = {}): Promise<T> {
  const { params, ...rest } = init;
  const res = await fetch(`${path}${query(params ?? {})}`, {
    ...rest,
    headers: { accept: 'application/json', ...(rest.body ? { 'content-type': 'application/json' } : {}) },
  });
  const text = await res.text();
  if (!res.ok) {
    let msg = text;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'string') msg = parsed;
      else if (parsed && typeof parsed === 'object' && 'message' in parsed) msg = String(parsed.message);
    } catch {
      // Not JSON: the text is the message.
    }
    throw new ApiError(`${res.status}: ${msg.trim()}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export type Metric = Record<string, string>;

/** `{a="b", c="d"}` with the metric name in front, as Prometheus prints a series. */
export function formatSeries(metric: Metric): string {
  const name = metric.__name__ ?? '';
  const rest = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return rest.length === 0 && name !== '' ? name : `${name}{${rest.join(', ')}}`;
}

export function ago(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t) || t <= 0) return 'never';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 1) return `${Math.round(s * 1000)}ms ago`;
  if (s < 120) return `${s.toFixed(1)}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}
