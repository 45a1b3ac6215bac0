import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PHAROS_MAIN, removeDir, startPharos, tempDir } from './harness.js';

const dir = tempDir('pharos-tsdb-cli-');
after(() => removeDir(dir));

function pharos(...args: string[]) {
  return spawnSync(process.execPath, [PHAROS_MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const T0 = 1_700_000_000;
const lines = ['# HELP http_requests Requests.', '# TYPE http_requests counter'];
for (let i = 0; i < 240; i++) {
  lines.push(`http_requests_total{code="200",job="api"} ${i * 10} ${T0 + i * 15}`);
  lines.push(`http_requests_total{code="500",job="api"} ${i} ${T0 + i * 15}`);
}
lines.push('# EOF', '');

describe('pharos tsdb import and analyze', () => {
  const data = join(dir, 'data');

  it('imports an OpenMetrics file, as promtool tsdb create-blocks-from openmetrics', () => {
    const file = join(dir, 'in.om');
    writeFileSync(file, lines.join('\n'));
    const r = pharos('tsdb', 'create-blocks-from', 'openmetrics', file, data);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /imported 480 samples of 2 series into /);
  });

  it('analyzes the result', () => {
    const r = pharos('tsdb', 'analyze', data);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Total Series: 2\n/);
    assert.match(r.stdout, /Samples: 480\n/);
    assert.match(r.stdout, /Duration: 59m45s\n/);
    assert.match(r.stdout, /Most common label pairs:\n2 (job=api|__name__=http_requests_total)\n/);
  });

  it('reports a broken file with its line, and a missing storage', () => {
    const bad = join(dir, 'bad.om');
    writeFileSync(bad, 'a 1 1\na{ 2 2\n# EOF\n');
    const r = pharos('tsdb', 'import', 'openmetrics', bad, join(dir, 'other'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.om:2: /);
    const a = pharos('tsdb', 'analyze', join(dir, 'nowhere'));
    assert.equal(a.status, 1);
    assert.match(a.stderr, /no Pharos storage at /);
  });

  it('serves the imported samples once the server starts on the directory', async () => {
    const server = await startPharos(() => 'scrape_configs: []\n', { dir });
    try {
      const q = encodeURIComponent('sum(rate(http_requests_total[5m]))');
      const body = (await (
        await fetch(`${server.url}/api/v1/query?query=${q}&time=${T0 + 1800}`)
      ).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      // (10 + 1) per 15 s.
      assert.equal(Number(body.data.result[0].value[1]).toFixed(4), (11 / 15).toFixed(4));
    } finally {
      await server.proc.stop();
    }
  });
});
