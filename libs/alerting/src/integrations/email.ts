import { createTransport, type Transporter } from 'nodemailer';
import { readSecret } from '@pharos/config';
import type { Alert } from '../alert.js';
import type { EmailConfig } from '../config.js';
import { dataValue, notificationData, type NotificationTemplates } from '../notification-template.js';
import { NotifyError, type Integration, type NotifyContext } from '../notify.js';

/** SMTP email: implicit TLS on port 465, otherwise STARTTLS (required unless require_tls is false). */
export class EmailIntegration implements Integration {
  readonly name = 'email';
  readonly sendResolved: boolean;
  private readonly transport: Transporter;

  constructor(
    private readonly cfg: EmailConfig,
    readonly index: number,
    private readonly templates: NotificationTemplates,
  ) {
    this.sendResolved = cfg.sendResolved;
    const tls = cfg.tls;
    const user = cfg.authUsername;
    this.transport = createTransport({
      host: cfg.smarthost.host,
      port: cfg.smarthost.port,
      secure: cfg.smarthost.port === 465,
      requireTLS: cfg.requireTLS && cfg.smarthost.port !== 465,
      ignoreTLS: !cfg.requireTLS,
      name: cfg.hello,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
      auth: user ? { user, pass: readSecret(cfg.authPassword) ?? cfg.authSecret ?? '' } : undefined,
      tls: {
        rejectUnauthorized: !tls.insecureSkipVerify,
        servername: tls.serverName ?? cfg.smarthost.host,
        ca: readSecret(tls.ca),
        cert: readSecret(tls.cert),
        key: readSecret(tls.key),
      },
    });
  }

  async message(ctx: NotifyContext, alerts: readonly Alert[], externalURL: string) {
    const data = dataValue(notificationData(ctx.receiver, ctx.groupLabels, alerts, externalURL, ctx.now));
    const t = (s: string, html = false) => this.templates.render(s, data, html);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.cfg.headers)) headers[k] = await t(v);
    const { Subject: subject, To: to, From: from, ...rest } = headers;
    return {
      from,
      to: to
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      subject,
      headers: rest,
      text: this.cfg.text === '' ? undefined : await t(this.cfg.text),
      html: this.cfg.html === '' ? undefined : await t(this.cfg.html, true),
    };
  }

  async send(
    ctx: NotifyContext,
    alerts: readonly Alert[],
    externalURL: string,
    signal: AbortSignal,
  ): Promise<void> {
    const msg = await this.message(ctx, alerts, externalURL);
    let onAbort: () => void = () => undefined;
    try {
      // nodemailer cannot abort a send, so the pipeline stops waiting for it instead.
      await Promise.race([
        this.transport.sendMail(msg),
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } catch (e) {
      const err = e as Error & { responseCode?: number };
      // 5xx SMTP replies are permanent; connection trouble and 4xx replies are worth a retry.
      const permanent = err.responseCode !== undefined && err.responseCode >= 500;
      throw new NotifyError(`send email: ${err.message}`, !permanent, permanent ? 'clientError' : 'other');
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
