import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeAlert } from './alert.js';
import {
  parseAlertmanagerConfig,
  type PagerdutyConfig,
  type SlackConfig,
  type WebhookConfig,
} from './config.js';
import { PagerdutyIntegration } from './integrations/pagerduty.js';
import { SlackIntegration } from './integrations/slack.js';
import { WebhookIntegration } from './integrations/webhook.js';
import { NotificationTemplates } from './notification-template.js';
import { NotifyError, type NotifyContext } from './notify.js';
import { groupKeyHash } from './integrations/index.js';

interface Request {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

describe('integrations against a local HTTP endpoint', () => {
  let server: Server;
  let base = '';
  const requests: Request[] = [];
  let status = 200;
  let reply = '';

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        requests.push({
          path: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(body) as Record<string, unknown>,
        });
        res.writeHead(status).end(reply);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const integrations = () => {
    const cfg = parseAlertmanagerConfig(`
route: {receiver: r}
receivers:
  - name: r
    webhook_configs: [{url: '${base}/hook', http_config: {authorization: {credentials: tok}}}]
    slack_configs: [{api_url: '${base}/slack', channel: '#ops', send_resolved: true, fields: [{title: Instance, value: '{{ .CommonLabels.instance }}'}]}]
    pagerduty_configs: [{url: '${base}/pd', routing_key: key123, severity: '{{ .CommonLabels.severity }}'}]
`);
    const [pd, slack, hook] = cfg.receivers[0].integrations;
    const t = NotificationTemplates.load([]);
    return {
      hook: new WebhookIntegration(hook as WebhookConfig, 0),
      slack: new SlackIntegration(slack as SlackConfig, 0, t),
      pd: new PagerdutyIntegration(pd as PagerdutyConfig, 0, t),
    };
  };

  const now = Date.UTC(2026, 5, 1);
  const ctx: NotifyContext = {
    groupKey: '{}:{alertname="Down"}',
    receiver: 'r',
    groupLabels: { alertname: 'Down' },
    now,
    repeatInterval: 0,
    muteTimeIntervals: [],
    activeTimeIntervals: [],
    deadline: now + 10_000,
  };
  const alerts = [
    makeAlert({
      labels: { alertname: 'Down', instance: 'db-1', severity: 'critical' },
      annotations: {},
      startsAt: now - 60_000,
      endsAt: 0,
      generatorURL: '',
      updatedAt: now,
      timeout: false,
    }),
  ];
  const signal = new AbortController().signal;

  it('webhook: the v4 payload with the configured authorization', async () => {
    requests.length = 0;
    const { hook } = integrations();
    await hook.send(ctx, alerts, 'http://am', signal);
    assert.equal(requests[0].path, '/hook');
    assert.equal(requests[0].headers.authorization, 'Bearer tok');
    assert.equal(requests[0].body.groupKey, ctx.groupKey);
    await hook.close();
  });

  it('slack: one attachment with the default title and the configured fields', async () => {
    requests.length = 0;
    const { slack } = integrations();
    await slack.send(ctx, alerts, 'http://am', signal);
    const b = requests[0].body as {
      channel: string;
      username: string;
      attachments: Array<Record<string, unknown>>;
    };
    assert.equal(b.channel, '#ops');
    assert.equal(b.username, 'Alertmanager');
    assert.equal(b.attachments[0].title, '[FIRING:1] Down (db-1 critical)');
    assert.equal(b.attachments[0].color, 'danger');
    assert.deepEqual(b.attachments[0].fields, [{ title: 'Instance', value: 'db-1', short: false }]);
    await slack.close();
  });

  it('pagerduty: an Events API v2 trigger keyed by the group', async () => {
    requests.length = 0;
    status = 202;
    const { pd } = integrations();
    await pd.send(ctx, alerts, 'http://am', signal);
    const b = requests[0].body as {
      routing_key: string;
      event_action: string;
      dedup_key: string;
      payload: Record<string, unknown>;
    };
    assert.equal(b.routing_key, 'key123');
    assert.equal(b.event_action, 'trigger');
    assert.equal(b.dedup_key, groupKeyHash(ctx.groupKey));
    assert.equal(b.payload.severity, 'critical');
    assert.equal(b.payload.summary, '[FIRING:1] Down (db-1 critical)');
    assert.match(String((b.payload.custom_details as Record<string, string>).firing), /instance = db-1/);
    await pd.close();
    status = 200;
  });

  it('5xx is worth a retry, 4xx is not, and a Slack error body fails the send', async () => {
    const { hook, slack } = integrations();
    for (const [code, retry] of [
      [503, true],
      [400, false],
    ] as const) {
      status = code;
      await assert.rejects(
        hook.send(ctx, alerts, 'http://am', signal),
        (e: unknown) => e instanceof NotifyError && e.retry === retry,
      );
    }
    status = 200;
    reply = '{"ok":false,"error":"channel_not_found"}';
    await assert.rejects(slack.send(ctx, alerts, 'http://am', signal), /channel_not_found/);
    reply = '';
    await hook.close();
    await slack.close();
  });
});
