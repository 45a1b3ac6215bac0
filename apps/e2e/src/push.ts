// A remote write 1.0 request as Prometheus sends one, for the benchmarks that push load.

/** The answer, or the error that left the request without one (a timeout, a reset). */
export function pushWrite(url: string, body: Uint8Array, timeoutMs: number): Promise<Response | Error> {
  return fetch(`${url}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}
