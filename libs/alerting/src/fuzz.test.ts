import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { ConfigError } from '@pharos/config';
import { mutationsOf, syntaxSoup } from '@pharos/model/testing';
import { parseAlertmanagerConfig } from './index.js';
import { startTestAlertmanager } from './testing/api-server.js';

const CONFIG = `global:
  resolve_timeout: 5m
route:
  receiver: hook
  group_by: [alertname, cluster]
  group_wait: 30s
  routes:
    - matchers: ['severity=~"page|critical"', team!="db"]
      receiver: hook
      continue: true
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:1/hook
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: '22:00', end_time: '24:00'}]
        weekdays: ['monday:friday']
`;

const ALERTS = JSON.stringify([
  {
    labels: { alertname: 'Down', severity: 'page', instance: 'a:9100' },
    annotations: { summary: 'down' },
    startsAt: '2026-12-01T10:00:00Z',
    endsAt: '2099-01-01T00:00:00Z',
    generatorURL: 'http://x/graph',
  },
]);
const SILENCE = JSON.stringify({
  matchers: [{ name: 'alertname', value: 'Do.*', isRegex: true, isEqual: true }],
  startsAt: '2026-12-01T10:00:00Z',
  endsAt: '2099-01-01T00:00:00Z',
  createdBy: 'fuzz',
  comment: 'fuzz',
});

describe('alertmanager.yml loader under bad input', () => {
  it('edits of a valid file load or give a ConfigError', () => {
    fc.assert(
      fc.property(mutationsOf(CONFIG, 4), (text) => {
        try {
          parseAlertmanagerConfig(text, 'fuzz.yml');
        } catch (e) {
          assert.ok(e instanceof ConfigError, `${String(e)} on ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('Alertmanager API v2 under bad input', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;

  before(async () => {
    ({ app, close } = await startTestAlertmanager('pharos-am-fuzz-'));
  });
  after(() => close());

  /** Refusals are 400 with the reason in JSON (a string, or go-swagger's object); nothing may be a 500. */
  const post = async (url: string, payload: string) => {
    const r = await app.inject({
      method: 'POST',
      url,
      payload,
      headers: { 'content-type': 'application/json' },
    });
    assert.ok(r.statusCode === 200 || r.statusCode === 400, `${r.statusCode} ${r.body} for ${payload}`);
    if (r.statusCode === 400) {
      const b = JSON.parse(r.body) as string | { message: string };
      assert.ok(typeof b === 'string' || typeof b.message === 'string', r.body);
    }
  };

  it('POST /api/v2/alerts: edits of a valid body are stored or refused with 400', async () => {
    await fc.assert(
      fc.asyncProperty(mutationsOf(ALERTS, 3), (body) => post('/api/v2/alerts', body)),
      {
        numRuns: 800,
      },
    );
  });

  it('POST /api/v2/silences: edits of a valid body are stored or refused with 400', async () => {
    await fc.assert(
      fc.asyncProperty(mutationsOf(SILENCE, 3), (body) => post('/api/v2/silences', body)),
      {
        numRuns: 800,
      },
    );
  });

  it('any JSON value as a body is stored or refused with 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 3 }), async (body) => {
        await post('/api/v2/alerts', body);
        await post('/api/v2/silences', body);
      }),
      { numRuns: 500 },
    );
  });

  it('GET filters of any text answer 200 or 400, and the API is still up after all of it', async () => {
    await fc.assert(
      fc.asyncProperty(syntaxSoup, async (filter) => {
        for (const path of ['/api/v2/alerts', '/api/v2/alerts/groups', '/api/v2/silences']) {
          const r = await app.inject({ method: 'GET', url: path, query: { filter } });
          assert.ok(r.statusCode === 200 || r.statusCode === 400, `${r.statusCode} ${r.body} for ${filter}`);
        }
      }),
      { numRuns: 500 },
    );
    const status = await app.inject({ method: 'GET', url: '/api/v2/status' });
    assert.equal(status.statusCode, 200);
  });

  it('refuses a silence with an empty createdBy or comment, as upstream', async () => {
    for (const field of ['createdBy', 'comment']) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v2/silences',
        payload: { ...(JSON.parse(SILENCE) as object), [field]: '' },
      });
      assert.equal(r.statusCode, 400);
      assert.equal(JSON.parse(r.body), `${field} in body is required`);
    }
  });
});
