// Fields upstream has that Pharos loads but does not act on yet are said at every load, as
// prometheus.yml's are, not collected and dropped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Alertmanager, FileState, parseAlertmanagerConfig } from './index.js';

const CONFIG = `route: {receiver: team}
receivers:
  - name: team
    slack_configs:
      - api_url: http://127.0.0.1:1/slack
        channel: '#a'
        actions: [{type: button, text: ack, url: 'http://127.0.0.1:1/'}]
    pagerduty_configs:
      - routing_key: abc
        images: [{src: 'http://127.0.0.1:1/x.png'}]
`;

describe('alertmanager.yml warnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharos-am-warn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the loader names each field it does not act on, with file and line', () => {
    const c = parseAlertmanagerConfig(CONFIG, 'am.yml');
    assert.deepEqual([...c.warnings].sort(), [
      'am.yml:10: config.PagerdutyConfig: field images is not supported by Pharos yet and is ignored',
      'am.yml:7: config.SlackConfig: field actions is not supported by Pharos yet and is ignored',
    ]);
  });

  it('are logged at start and again at each reload', async () => {
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, CONFIG);
    const lines: Array<{ level: number; msg: string; file?: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const am = new Alertmanager({
      configFile: file,
      externalURL: 'http://127.0.0.1:9093',
      state: new FileState(join(dir, 'state'), logger),
      logger,
      registry: new Registry(),
    });
    await am.start();
    const warned = () => lines.filter((l) => l.level === 40 && /is not supported by Pharos yet/.test(l.msg));
    assert.equal(warned().length, 2);
    assert.ok(warned().every((l) => l.file === file));
    am.reload();
    assert.equal(warned().length, 4);
    await am.stop();
  });
});
