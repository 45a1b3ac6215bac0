import type { Dispatcher } from 'undici';
import type { HTTPClientConfig } from '@pharos/config';
import { scrapeDispatcher } from '@pharos/scrape';

/** What the HTTP integrations share: one connection pool per configured integration. */
export abstract class HTTPIntegration {
  readonly sendResolved: boolean;
  protected readonly dispatcher: Dispatcher;

  constructor(
    cfg: { readonly sendResolved: boolean; readonly http: HTTPClientConfig },
    readonly index: number,
  ) {
    this.sendResolved = cfg.sendResolved;
    this.dispatcher = scrapeDispatcher(cfg.http);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
