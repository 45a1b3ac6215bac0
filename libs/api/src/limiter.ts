import { QueryError } from '@pharos/promql';
import { Gate } from './gate.js';

/**
 * The limits every query-like request runs under, over HTTP and gRPC alike: a slot of
 * --query.max-concurrency (waiting in arrival order) and the query timeout, or the request's
 * own shorter one. The work gets the timeout as its signal, so its storage reads and its
 * evaluation stop when it fires.
 */
export class QueryLimiter {
  readonly gate: Gate;

  constructor(
    readonly timeoutMs: number,
    maxConcurrency: number,
  ) {
    this.gate = new Gate(maxConcurrency);
  }

  async run<T>(requestedMs: number | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms =
      requestedMs !== undefined && requestedMs > 0 ? Math.min(requestedMs, this.timeoutMs) : this.timeoutMs;
    const signal = AbortSignal.timeout(ms);
    let started = false;
    try {
      return await this.gate.run(signal, () => {
        started = true;
        return fn(signal);
      });
    } catch (e) {
      if (signal.aborted && !(e instanceof QueryError)) {
        throw new QueryError(
          started ? 'query timed out in expression evaluation' : 'query timed out in query queue',
          'timeout',
        );
      }
      throw e;
    }
  }
}
