import { request, type Dispatcher } from 'undici';
import type { HTTPClientConfig } from '@pharos/config';
import { authorizationHeader } from '@pharos/scrape';
import { NotifyError } from '../notify.js';

export const USER_AGENT = 'Pharos-Alertmanager/0.1.0';

export interface PostResult {
  readonly status: number;
  readonly body: string;
}

/** POSTs JSON; network errors and timeouts are worth retrying, as upstream treats them. */
export async function postJSON(
  url: string,
  payload: unknown,
  http: HTTPClientConfig,
  dispatcher: Dispatcher,
  signal: AbortSignal,
  timeout = 0,
): Promise<PostResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  const auth = authorizationHeader(http);
  if (auth) headers.authorization = auth;
  try {
    const res = await request(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(payload),
      dispatcher,
      signal: timeout > 0 ? AbortSignal.any([signal, AbortSignal.timeout(timeout)]) : signal,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const body = await res.body.text();
    return { status: res.statusCode, body };
  } catch (e) {
    throw new NotifyError(`Post "${redactURL(url)}": ${(e as Error).message}`, true);
  }
}

/** Webhook and Slack URLs carry tokens in path and query: only scheme and host stay readable. */
export function redactURL(url: string, placeholder = '<redacted>'): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/${placeholder}`;
  } catch {
    return placeholder;
  }
}

/** notify.Retrier: 2xx is success, 5xx (and `retryCodes`) may be retried, anything else is final. */
export function checkStatus(r: PostResult, retryCodes: readonly number[] = []): void {
  if (r.status >= 200 && r.status < 300) return;
  const body = r.body.length > 0 ? `: ${r.body.slice(0, 512)}` : '';
  const retry = r.status >= 500 || retryCodes.includes(r.status);
  throw new NotifyError(
    `unexpected status code ${r.status}${body}`,
    retry,
    r.status >= 500 ? 'serverError' : r.status >= 400 ? 'clientError' : 'other',
  );
}
