import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Alert } from './alert.js';
import { AlertStore } from './alert-store.js';
import { FakeClock } from './clock.js';
import { parseAlertmanagerConfig } from './config.js';
import { Dispatcher } from './dispatch.js';
import { Inhibitor } from './inhibit.js';
import { Matcher } from './matchers.js';
import { NotificationLog } from './nflog.js';
import { NotificationTemplates } from './notification-template.js';
import {
  NotificationPipeline,
  notifyMetrics,
  type Integration,
  type NotifyContext,
  type Receiver,
} from './notify.js';
import { Route } from './route.js';
import { Silences } from './silences.js';

const S = 1000;
const M = 60 * S;

interface Sent {
  readonly at: number;
  readonly receiver: string;
  readonly groupKey: string;
  readonly alerts: string[];
}

/** The dispatch stack of one Alertmanager with recording integrations and a fake clock. */
function harness(yaml: string, opts: { sendResolved?: boolean; failFirst?: number } = {}) {
  const cfg = parseAlertmanagerConfig(yaml);
  const clock = new FakeClock();
  const now = () => clock.now();
  const store = new AlertStore();
  const silences = new Silences(now);
  const nflog = new NotificationLog(now);
  const inhibitor = new Inhibitor(cfg.inhibitRules, store, now);
  const sent: Sent[] = [];
  let failures = opts.failFirst ?? 0;
  const receivers = new Map<string, Receiver>(
    cfg.receivers.map((r) => {
      const integ: Integration = {
        name: 'webhook',
        index: 0,
        sendResolved: opts.sendResolved ?? true,
        async send(ctx: NotifyContext, alerts: readonly Alert[]) {
          if (failures > 0) {
            failures--;
            throw new Error('receiver down');
          }
          sent.push({
            at: (clock.now() - start) / S,
            receiver: ctx.receiver,
            groupKey: ctx.groupKey,
            alerts: alerts.map(
              (a) =>
                `${a.labels.alertname}${a.labels.instance ? `@${a.labels.instance}` : ''}${a.endsAt !== 0 && a.endsAt <= ctx.now ? ':resolved' : ''}`,
            ),
          });
        },
      };
      return [r.name, { name: r.name, integrations: [integ] }];
    }),
  );
  const pipeline = new NotificationPipeline({
    receivers,
    inhibitor,
    silences,
    nflog,
    timeIntervals: cfg.timeIntervals,
    templates: NotificationTemplates.load([]),
    externalURL: 'http://am.example',
    metrics: notifyMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
    peerWait: () => 0,
    sleep: (ms) => new Promise((r) => clock.after(ms, () => r())),
    now,
  });
  const dispatcher = new Dispatcher(
    new Route(cfg.route),
    store,
    (c, a) => pipeline.exec(c, a),
    clock,
    pino({ level: 'silent' }),
  );
  dispatcher.start();
  const start = clock.now();
  const fire = (labels: Record<string, string>, endsIn = 10 * M) =>
    store.put([
      {
        labels,
        annotations: {},
        startsAt: clock.now(),
        endsAt: clock.now() + endsIn,
        generatorURL: '',
        updatedAt: clock.now(),
        timeout: false,
      },
    ]);
  const resolve = (labels: Record<string, string>) =>
    store.put([
      {
        labels,
        annotations: {},
        startsAt: clock.now() - M,
        endsAt: clock.now(),
        generatorURL: '',
        updatedAt: clock.now(),
        timeout: false,
      },
    ]);
  return { clock, store, silences, sent, fire, resolve, dispatcher, stop: () => dispatcher.stop() };
}

const BASE = `
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
  - name: default
`;

describe('dispatch timing', () => {
  it('waits group_wait for the first notification and batches alerts that arrive meanwhile', async () => {
    const h = harness(BASE);
    h.fire({ alertname: 'A', instance: '1' });
    await h.clock.advance(10 * S);
    h.fire({ alertname: 'A', instance: '2' });
    await h.clock.advance(19 * S);
    assert.equal(h.sent.length, 0, 'nothing before group_wait');
    await h.clock.advance(1 * S);
    assert.deepEqual(h.sent, [
      { at: 30, receiver: 'default', groupKey: '{}:{alertname="A"}', alerts: ['A@1', 'A@2'] },
    ]);
    h.stop();
  });

  it('sends a new alert of a flushed group at the next group_interval, not before', async () => {
    const h = harness(BASE);
    h.fire({ alertname: 'A', instance: '1' });
    await h.clock.advance(30 * S);
    h.fire({ alertname: 'A', instance: '2' });
    await h.clock.advance(4 * M);
    assert.equal(h.sent.length, 1);
    await h.clock.advance(1 * M);
    assert.deepEqual(
      h.sent.map((s) => [s.at, s.alerts]),
      [
        [30, ['A@1']],
        [330, ['A@1', 'A@2']],
      ],
    );
    h.stop();
  });

  it('repeats an unchanged group only after repeat_interval', async () => {
    const h = harness(BASE);
    h.fire({ alertname: 'A' }, 10 * 3600 * S);
    await h.clock.advance(30 * S + 59 * M);
    assert.equal(h.sent.length, 1, 'group_interval flushes within the hour send nothing new');
    await h.clock.advance(11 * M);
    // The flush at 60m30s is exactly one repeat_interval after the first; upstream requires more.
    assert.deepEqual(
      h.sent.map((s) => s.at),
      [30, 3930],
    );
    h.stop();
  });

  it('sends resolved notifications when send_resolved, and none otherwise', async () => {
    for (const sendResolved of [true, false]) {
      const h = harness(BASE, { sendResolved });
      h.fire({ alertname: 'A' });
      await h.clock.advance(30 * S);
      h.resolve({ alertname: 'A' });
      await h.clock.advance(5 * M);
      assert.deepEqual(
        h.sent.map((s) => s.alerts),
        sendResolved ? [['A'], ['A:resolved']] : [['A']],
        `send_resolved: ${sendResolved}`,
      );
      h.stop();
    }
  });

  it('an alert older than group_wait is sent at once', async () => {
    const h = harness(BASE);
    h.store.put([
      {
        labels: { alertname: 'Old' },
        annotations: {},
        startsAt: h.clock.now() - 10 * M,
        endsAt: h.clock.now() + 10 * M,
        generatorURL: '',
        updatedAt: h.clock.now(),
        timeout: false,
      },
    ]);
    await h.clock.advance(1);
    assert.deepEqual(
      h.sent.map((s) => s.at),
      [0],
    );
    h.stop();
  });

  it('retries a failed send within the flush', async () => {
    const h = harness(BASE, { failFirst: 1000 });
    h.fire({ alertname: 'A' });
    await h.clock.advance(30 * S);
    assert.equal(h.sent.length, 0);
    h.stop();
    const h2 = harness(BASE, { failFirst: 1 });
    h2.fire({ alertname: 'A' });
    await h2.clock.advance(31 * S);
    assert.equal(h2.sent.length, 1, 'a second attempt within the flush succeeds');
    h2.stop();
  });
});

describe('routing', () => {
  const TREE = `
route:
  receiver: default
  group_by: [alertname]
  group_wait: 0s
  routes:
    - matchers: ['team="db"']
      receiver: db
      continue: true
    - matchers: ['severity=~"critical|page"']
      receiver: pager
      group_by: ['...']
    - match: {team: db}
      receiver: db-second
receivers:
  - name: default
  - name: db
  - name: pager
  - name: db-second
`;

  it('follows continue, inherits options and groups by every label with ...', async () => {
    const h = harness(TREE);
    h.fire({ alertname: 'X', team: 'db', severity: 'critical' });
    h.fire({ alertname: 'Y', team: 'web' });
    h.fire({ alertname: 'Z', team: 'db', severity: 'info' });
    await h.clock.advance(1);
    assert.deepEqual(
      h.sent.map((s) => `${s.receiver} ${s.groupKey} ${s.alerts.join(',')}`).sort(),
      [
        'db {}/{team="db"}:{alertname="X"} X',
        'db {}/{team="db"}:{alertname="Z"} Z',
        'db-second {}/{team="db"}:{alertname="Z"} Z',
        'default {}:{alertname="Y"} Y',
        'pager {}/{severity=~"critical|page"}:{alertname="X", severity="critical", team="db"} X',
      ].sort(),
    );
    h.stop();
  });
});

describe('inhibition and silences', () => {
  const INHIBIT = `
route:
  receiver: default
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1m
receivers:
  - name: default
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
`;

  it('a firing critical alert mutes warnings of the same cluster only, until it resolves', async () => {
    const h = harness(INHIBIT);
    h.fire({ alertname: 'Down', severity: 'critical', cluster: 'a' });
    h.fire({ alertname: 'Slow', severity: 'warning', cluster: 'a', instance: '1' });
    h.fire({ alertname: 'Slow', severity: 'warning', cluster: 'b', instance: '2' });
    await h.clock.advance(1);
    assert.deepEqual(h.sent.map((s) => s.alerts).sort(), [['Down'], ['Slow@2']]);
    h.resolve({ alertname: 'Down', severity: 'critical', cluster: 'a' });
    await h.clock.advance(1 * M);
    assert.deepEqual(
      h.sent
        .slice(2)
        .map((s) => s.alerts)
        .sort(),
      [['Down:resolved'], ['Slow@1', 'Slow@2']],
    );
    h.stop();
  });

  it('silences mute matching alerts while active, with regex and negative matchers', async () => {
    const h = harness(INHIBIT.replace(/inhibit_rules:[\s\S]*/, ''));
    const now = h.clock.now();
    const id = h.silences.set({
      matchers: [new Matcher('=~', 'alertname', 'Disk.*'), new Matcher('!=', 'env', 'prod')],
      startsAt: now,
      endsAt: now + 2 * M,
      createdBy: 'test',
      comment: 'maintenance',
    });
    h.fire({ alertname: 'DiskFull', env: 'dev' }, 60 * M);
    h.fire({ alertname: 'DiskSlow', env: 'prod' }, 60 * M);
    await h.clock.advance(1);
    assert.deepEqual(
      h.sent.map((s) => s.alerts),
      [['DiskSlow']],
    );
    h.silences.expire(id);
    await h.clock.advance(1 * M);
    assert.deepEqual(
      h.sent.slice(1).map((s) => s.alerts),
      [['DiskFull']],
    );
    h.stop();
  });
});

describe('time intervals', () => {
  // The fake clock starts on Thursday 2026-01-01 00:00 UTC.
  const cfg = (field: string) => `
route:
  receiver: default
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
  routes:
    - matchers: [alertname="A"]
      ${field}: [night]
time_intervals:
  - name: night
    time_intervals:
      - times: [{start_time: "00:00", end_time: "06:00"}]
        weekdays: ['monday:friday']
receivers:
  - name: default
`;

  it('mute_time_intervals hold notifications until the interval ends', async () => {
    const h = harness(cfg('mute_time_intervals'));
    h.fire({ alertname: 'A' }, 48 * 3600 * S);
    await h.clock.advance(5 * 3600 * S);
    assert.equal(h.sent.length, 0);
    await h.clock.advance(3600 * S);
    assert.deepEqual(
      h.sent.map((s) => s.at),
      [6 * 3600],
    );
    h.stop();
  });

  it('active_time_intervals send only inside the interval', async () => {
    const h = harness(cfg('active_time_intervals'));
    h.fire({ alertname: 'A' }, 48 * 3600 * S);
    await h.clock.advance(1);
    assert.deepEqual(
      h.sent.map((s) => s.at),
      [0],
    );
    h.stop();
  });
});
