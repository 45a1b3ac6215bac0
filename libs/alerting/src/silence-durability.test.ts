// A silence the API returned an id for is on disk when the answer leaves: a kill -9 right after
// finds it in silences.json (it was written 50 ms later, so a kill in between lost it).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Alertmanager, FileState, registerAlertmanagerAPI } from './index.js';

describe('silences are durable before the API answers', () => {
  let dir: string;
  let am: Alertmanager;
  let app: FastifyInstance;
  const onDisk = () =>
    JSON.parse(readFileSync(join(dir, 'state', 'silences.json'), 'utf8')) as Array<{
      id: string;
      endsAt: number;
    }>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pharos-am-silence-'));
    writeFileSync(join(dir, 'alertmanager.yml'), 'route: {receiver: quiet}\nreceivers: [{name: quiet}]\n');
    const logger = pino({ level: 'silent' });
    am = new Alertmanager({
      configFile: join(dir, 'alertmanager.yml'),
      externalURL: 'http://127.0.0.1:9093',
      state: new FileState(join(dir, 'state'), logger),
      logger,
      registry: new Registry(),
    });
    await am.start();
    app = Fastify({ logger: false });
    registerAlertmanagerAPI(app, am, {
      versionInfo: { version: 't', revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' },
      reload: async () => undefined,
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await am.stop();
    rmSync(dir, { recursive: true, force: true });
  });

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
