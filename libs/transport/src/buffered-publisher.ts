import type { SampleBatch } from '@pharos/model';
import { RetryWait } from './retry-wait.js';

export interface BufferedPublisherOptions {
  /** Samples held while the bus refuses writes; a batch that would pass this is dropped. */
  readonly maxSamples: number;
  /** First wait after a failed send; doubles up to `maxRetryMs`. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Samples dropped because the buffer was full. */
  readonly onDrop?: (samples: number) => void;
  /** A send failed and will be retried. */
  readonly onError?: (err: unknown) => void;
}

/**
 * The scraper's side of the sample bus when the bus is a broker that can go away: publishing
 * never waits for the broker. Batches queue in order and a single sender forwards them, retrying
 * with backoff; past the bound new batches are dropped and counted rather than blocking scrapes
 * or growing memory without limit. A batch is retried whole, so a partition that had already
 * taken it sees it again: storage accepts an identical resend silently.
 */
export class BufferedPublisher {
  private readonly queue: SampleBatch[] = [];
  private samples = 0;
  private sending: Promise<void> | null = null;
  private idle: Array<() => void> = [];
  private closed = false;
  private readonly retryWait = new RetryWait();

  constructor(
    private readonly send: (batch: SampleBatch) => Promise<void>,
    private readonly opts: BufferedPublisherOptions,
  ) {}

  /** Samples waiting to be sent. */
  get bufferedSamples(): number {
    return this.samples;
  }

  async publish(batch: SampleBatch): Promise<void> {
    const n = batch.refs.length;
    if (this.closed || this.samples + n > this.opts.maxSamples) {
      this.opts.onDrop?.(n);
      return;
    }
    this.queue.push(batch);
    this.samples += n;
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
      for (const w of this.idle.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    let wait = this.opts.retryMs ?? 500;
    while (this.queue.length > 0) {
      const batch = this.queue[0];
      try {
        await this.send(batch);
      } catch (err) {
        if (this.closed) return;
        this.opts.onError?.(err);
        await this.retryWait.sleep(wait);
        wait = Math.min(wait * 2, this.opts.maxRetryMs ?? 10_000);
        continue;
      }
      wait = this.opts.retryMs ?? 500;
      if (this.queue[0] !== batch) return; // closed while sending: the queue was dropped
      this.queue.shift();
      this.samples -= batch.refs.length;
    }
  }

  /** Resolves once the queue is empty, or after `timeoutMs` with false (shutdown). */
  async flush(timeoutMs: number): Promise<boolean> {
    if (!this.sending) return true;
    this.retryWait.interrupt();
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => this.idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** Stops retrying; what is still queued is dropped and counted. */
  close(): void {
    this.closed = true;
    this.retryWait.interrupt();
    const left = this.queue.splice(0);
    const n = left.reduce((s, b) => s + b.refs.length, 0);
    this.samples = 0;
    if (n > 0) this.opts.onDrop?.(n);
  }
}
