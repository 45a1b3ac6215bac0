// A silence the API returned an id for is on disk when the answer leaves: a kill -9 right after
// finds it in silences.json (it was written 50 ms later, so a kill in between lost it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startTestAlertmanager } from './testing/api-server.js';

describe('silences are durable before the API answers', () => {
  let dir: string;
  let app: FastifyInstance;
  let close: () => Promise<void>;
  const onDisk = () =>
    JSON.parse(readFileSync(join(dir, 'state', 'silences.json'), 'utf8')) as Array<{
      id: string;
      endsAt: number;
    }>;

  before(async () => {
    ({ dir, app, close } = await startTestAlertmanager('pharos-am-silence-'));
  });
  after(() => close());

  it('a created silence, and then its expiry, are in silences.json when the answer arrives', async () => {
    const now = Date.now();
    const r = await app.inject({
      method: 'POST',
      url: '/api/v2/silences',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        matchers: [{ name: 'alertname', value: 'Down', isRegex: false, isEqual: true }],
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        createdBy: 'test',
        comment: 'durable',
      }),
    });
    assert.equal(r.statusCode, 200, r.body);
    const { silenceID } = JSON.parse(r.body) as { silenceID: string };
    // Read at once, with no timer given a chance to run: what a kill -9 now would leave.
    const created = onDisk().find((s) => s.id === silenceID);
    assert.ok(created, 'the new silence is on disk');

    const d = await app.inject({ method: 'DELETE', url: `/api/v2/silence/${silenceID}` });
    assert.equal(d.statusCode, 200);
    const expired = onDisk().find((s) => s.id === silenceID);
    assert.ok(expired && expired.endsAt <= Date.now(), 'the expiry is on disk');
  });
});
