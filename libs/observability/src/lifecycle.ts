import type { Logger } from 'pino';

type Closer = { name: string; close: () => Promise<void> };

/**
 * Runs registered closers in reverse order on SIGTERM/SIGINT, so what was started last (the
 * scrapers) stops first and storage is flushed last. A second signal exits at once.
 */
export class Lifecycle {
  private readonly closers: Closer[] = [];
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 30_000,
  ) {}

  onStop(name: string, close: () => Promise<void>): void {
    this.closers.push({ name, close });
  }

  installSignalHandlers(onReload?: () => void): void {
    const handler = (signal: NodeJS.Signals) => {
      if (this.stopping) {
        this.logger.warn({ signal }, 'second signal, exiting now');
        process.exit(1);
      }
      this.logger.info({ signal }, 'received signal, shutting down');
      void this.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    if (onReload) process.on('SIGHUP', onReload);
  }

  stop(): Promise<void> {
    this.stopping ??= this.runClosers();
    return this.stopping;
  }

  private async runClosers(): Promise<void> {
    const timer = setTimeout(() => {
      this.logger.error('shutdown timed out');
      process.exit(1);
    }, this.timeoutMs);
    timer.unref();
    let failed = false;
    for (const c of [...this.closers].reverse()) {
      try {
        await c.close();
        this.logger.debug({ component: c.name }, 'stopped');
      } catch (e) {
        failed = true;
        this.logger.error({ component: c.name, err: e }, 'error while stopping');
      }
    }
    clearTimeout(timer);
    this.logger.info('shutdown complete');
    if (failed) throw new Error('shutdown had errors');
  }
}
