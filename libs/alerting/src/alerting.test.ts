import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeAlert } from './alert.js';
import { parseAlertmanagerConfig } from './config.js';
import { labelSetString } from './labelset.js';
import { maskSecrets } from './mask-secrets.js';
import { matchersString, parseMatchers } from './matchers.js';
import { dataValue, NotificationTemplates, notificationData } from './notification-template.js';
import { webhookMessage } from './integrations/index.js';

describe('matchers', () => {
  const cases: Array<[string, string]> = [
    ['foo=bar', '{foo="bar"}'],
    ['{foo="bar", baz!="qux"}', '{foo="bar",baz!="qux"}'],
    ['a=~"x|y",b!~"z"', '{a=~"x|y",b!~"z"}'],
    ['msg="a, b"', '{msg="a, b"}'],
    ['q="say \\"hi\\""', '{q="say \\"hi\\""}'],
    ['  spaced  =  value  ', '{spaced="value"}'],
  ];
  for (const [input, want] of cases) {
    it(input, () => assert.equal(matchersString(parseMatchers(input)), want));
  }
  it('rejects bad input with upstream messages', () => {
    assert.throws(() => parseMatchers('foo'), /bad matcher format: foo/);
    assert.throws(() => parseMatchers('foo="bar'), /unescaped double quote/);
    assert.throws(() => parseMatchers('a=~"("'), /error parsing regexp/);
  });
  it('anchors regexes and treats a missing label as empty', () => {
    const [m] = parseMatchers('job=~"api.*"');
    assert.equal(m.matches('api-1'), true);
    assert.equal(m.matches('my-api'), false);
    assert.equal(parseMatchers('env!="prod"')[0].matches(undefined), true);
  });
});

describe('alertmanager.yml', () => {
  const bad: Array<[string, RegExp]> = [
    ['receivers: [{name: a}]', /no routes provided/],
    ['route: {}\nreceivers: [{name: a}]', /root route must specify a default receiver/],
    ['route: {receiver: b}\nreceivers: [{name: a}]', /undefined receiver "b" used in route/],
    [
      'route: {receiver: a, matchers: [x="1"]}\nreceivers: [{name: a}]',
      /root route must not have any matchers/,
    ],
    ['route: {receiver: a}\nreceivers: [{name: a}, {name: a}]', /notification config name "a" is not unique/],
    ['route: {receiver: a, group_by: [..., x]}\nreceivers: [{name: a}]', /wildcard group_by/],
    ['route: {receiver: a, repeat_interval: 0s}\nreceivers: [{name: a}]', /repeat_interval cannot be zero/],
    [
      'route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{}]}]',
      /one of url or url_file must be configured/,
    ],
    ['route: {receiver: a}\nreceivers: [{name: a, email_configs: [{to: x@y}]}]', /no global SMTP from set/],
    [
      'route: {receiver: a}\nreceivers: [{name: a, opsgenie_configs: [{api_key: k}]}]',
      /not supported by Pharos/,
    ],
    ['route: {receiver: a}\nreceivers: [{name: a}]\nbogus: 1', /field bogus not found/],
    [
      'route: {receiver: a, routes: [{receiver: a, mute_time_intervals: [x]}]}\nreceivers: [{name: a}]',
      /undefined time interval "x" used in route/,
    ],
  ];
  for (const [text, re] of bad)
    it(`refuses ${re.source}`, () => assert.throws(() => parseAlertmanagerConfig(text), re));

  it('fills upstream defaults', () => {
    const c = parseAlertmanagerConfig(
      'global: {smtp_from: am@x, smtp_smarthost: "mail:25"}\nroute: {receiver: a}\nreceivers: [{name: a, email_configs: [{to: ops@x}], webhook_configs: [{url: "http://h/"}]}]',
    );
    assert.equal(c.global.resolveTimeout, 300_000);
    const [email, hook] = c.receivers[0].integrations;
    assert.equal(email.kind === 'email' && email.headers.Subject, '{{ template "email.default.subject" . }}');
    assert.equal(email.sendResolved, false);
    assert.equal(hook.sendResolved, true);
  });

  it('masks secrets in the config /api/v2/status shows', () => {
    const text =
      'global: {slack_api_url: "https://hooks.slack.com/T/x"}\nroute: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{url: "http://h/?token=1", http_config: {basic_auth: {username: u, password: p}}}]}]\n';
    const masked = maskSecrets(text);
    assert.doesNotMatch(masked, /token=1|hooks\.slack|password: p/);
    assert.match(masked, /username: u/);
  });
});

describe('notifications', () => {
  const t0 = Date.UTC(2026, 0, 1, 12);
  const alerts = [
    makeAlert({
      labels: { alertname: 'DiskFull', instance: 'a:9100', job: 'node' },
      annotations: { summary: 'disk full' },
      startsAt: t0,
      endsAt: 0,
      generatorURL: 'http://prom/graph',
      updatedAt: t0,
      timeout: false,
    }),
    makeAlert({
      labels: { alertname: 'DiskFull', instance: 'b:9100', job: 'node' },
      annotations: {},
      startsAt: t0,
      endsAt: t0 + 1000,
      generatorURL: '',
      updatedAt: t0,
      timeout: false,
    }),
  ];
  const data = notificationData('team-x', { alertname: 'DiskFull' }, alerts, 'http://am:9093', t0 + 5000);

  it('renders the default subject as upstream', async () => {
    const t = NotificationTemplates.load([]);
    assert.equal(
      await t.render('{{ template "__subject" . }}', dataValue(data)),
      '[FIRING:1] DiskFull (node)',
    );
    assert.equal(
      await t.render('{{ template "slack.default.titlelink" . }}', dataValue(data)),
      'http://am:9093/#/alerts?receiver=team-x',
    );
    assert.match(
      await t.render('{{ template "__text_alert_list" .Alerts.Firing }}', dataValue(data)),
      / - instance = a:9100\n/,
    );
  });

  it('escapes HTML in email bodies unless safeHtml', async () => {
    const t = NotificationTemplates.load([]);
    const evil = notificationData('r', { alertname: '<b>' }, alerts, '', t0);
    assert.equal(await t.render('{{ .GroupLabels.alertname }}', dataValue(evil), true), '&lt;b&gt;');
    assert.equal(await t.render('{{ "<i>" | safeHtml }}', dataValue(evil), true), '<i>');
  });

  it('builds the version 4 webhook payload', () => {
    const msg = webhookMessage(data, '{}:{alertname="DiskFull"}', 1);
    assert.equal(msg.version, '4');
    assert.equal(msg.truncatedAlerts, 1);
    assert.equal(msg.status, 'firing');
    assert.deepEqual(msg.commonLabels, { alertname: 'DiskFull', job: 'node' });
    assert.equal(msg.alerts[0].endsAt, '0001-01-01T00:00:00Z');
    assert.equal(msg.alerts[0].startsAt, '2026-01-01T12:00:00Z');
    assert.equal(msg.alerts[0].fingerprint.length, 16);
  });

  it('formats label sets as model.LabelSet.String', () => {
    assert.equal(labelSetString({ b: '2', a: 'x"y' }), '{a="x\\"y", b="2"}');
  });
});

describe('alertmanager.yml read as go-yaml reads it', () => {
  it('expands merged routes and a quoted matcher spanning lines (amtool check-config accepts the file)', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('./testdata/go-yaml.alertmanager.yml', import.meta.url), 'utf8');
    const c = parseAlertmanagerConfig(text, 'go-yaml.alertmanager.yml');
    assert.deepEqual(
      c.route.routes.map((r) => [r.matchers.map(String), r.groupWait]),
      [
        [['team="a"'], 10_000],
        [['team="b"'], 10_000],
      ],
    );
    assert.match(maskSecrets(text), /<secret>/);
  });
});
