import { readSecret } from '@pharos/config';
import type { Alert } from '../alert.js';
import type { SlackConfig } from '../config.js';
import { dataValue, notificationData, type NotificationTemplates } from '../notification-template.js';
import { NotifyError, type Integration, type NotifyContext } from '../notify.js';
import { checkStatus, postJSON } from './http.js';
import { HTTPIntegration } from './http-integration.js';

/** Slack cuts titles at 1024 characters; upstream truncates first so the message still posts. */
const MAX_TITLE = 1024;

const truncate = (s: string, n: number) => ([...s].length > n ? [...s].slice(0, n - 1).join('') + '…' : s);

/** Slack incoming-webhook message with one attachment, as notify/slack builds it. */
export class SlackIntegration extends HTTPIntegration implements Integration {
  readonly name = 'slack';
  constructor(
    private readonly cfg: SlackConfig,
    index: number,
    private readonly templates: NotificationTemplates,
  ) {
    super(cfg, index);
  }

  async message(ctx: NotifyContext, alerts: readonly Alert[], externalURL: string) {
    const data = dataValue(notificationData(ctx.receiver, ctx.groupLabels, alerts, externalURL, ctx.now));
    const c = this.cfg;
    const t = (s: string) => this.templates.render(s, data);
    const attachment: Record<string, unknown> = {
      title: truncate(await t(c.title), MAX_TITLE),
      title_link: await t(c.titleLink),
      pretext: await t(c.pretext),
      text: await t(c.text),
      fallback: await t(c.fallback),
      callback_id: await t(c.callbackId),
      footer: await t(c.footer),
      color: await t(c.color),
      mrkdwn_in: c.mrkdwnIn,
    };
    if (c.fields.length > 0) {
      attachment.fields = await Promise.all(
        c.fields.map(async (f) => ({
          title: await t(f.title),
          value: await t(f.value),
          short: f.short ?? c.shortFields,
        })),
      );
    }
    for (const k of Object.keys(attachment)) if (attachment[k] === '') delete attachment[k];
    const msg: Record<string, unknown> = {
      channel: await t(c.channel),
      username: await t(c.username),
      icon_emoji: await t(c.iconEmoji),
      icon_url: await t(c.iconURL),
      link_names: c.linkNames,
      attachments: [attachment],
    };
    for (const k of Object.keys(msg)) if (msg[k] === '') delete msg[k];
    return msg;
  }

  async send(
    ctx: NotifyContext,
    alerts: readonly Alert[],
    externalURL: string,
    signal: AbortSignal,
  ): Promise<void> {
    const msg = await this.message(ctx, alerts, externalURL);
    const res = await postJSON(
      readSecret(this.cfg.apiURL) ?? '',
      msg,
      this.cfg.http,
      this.dispatcher,
      signal,
    );
    checkStatus(res);
    // Slack's Web API answers 200 with {"ok":false,"error":...}; incoming webhooks answer "ok".
    if (res.body.startsWith('{')) {
      let parsed: { ok?: boolean; error?: string } = {};
      try {
        parsed = JSON.parse(res.body) as typeof parsed;
      } catch {
        return;
      }
      if (parsed.ok === false)
        throw new NotifyError(
          `error response from Slack: ${parsed.error ?? 'unknown'}`,
          false,
          'clientError',
        );
    }
  }
}
