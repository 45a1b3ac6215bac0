import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LabelMatcher } from '@pharos/model';
import { formatAnalysis, importOpenMetrics, ShardedTSDB } from './index.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pharos-backfill-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function file(text: string): string {
  const p = join(tempDir(), 'in.om');
  writeFileSync(p, text);
  return p;
}

const GOOD = `# HELP http_requests Requests.
# TYPE http_requests counter
http_requests_total{code="200"} 1 1700000000
http_requests_total{code="200"} 5 1700000015
http_requests_total{code="500"} 2 1700000000
http_requests_created{code="200"} 1699999000 1700000000
# TYPE temp gauge
# UNIT temp celsius
temp_celsius 21.5 1700000030.5
temp_celsius 20 1700000000
# TYPE lat histogram
lat_bucket{le="0.1"} 3 1700000000
lat_bucket{le="+Inf"} 4 1700000000
lat_count 4 1700000000
lat_sum 0.5 1700000000
# EOF
`;

async function importText(text: string, pieceChars?: number) {
  const dir = tempDir();
  const db = await ShardedTSDB.open(dir, 2, { outOfOrderTimeWindowMs: Infinity });
  try {
    const r = await importOpenMetrics(file(text), db, pieceChars);
    return { r, db };
  } catch (e) {
    await db.close();
    throw e;
  }
}

describe('importOpenMetrics', () => {
  for (const pieceChars of [undefined, 64, 7]) {
    it(`writes every sample, in any order${pieceChars ? `, read in pieces of ${pieceChars}` : ''}`, async () => {
      const { r, db } = await importText(GOOD, pieceChars);
      assert.equal(r.samples, 10);
      assert.equal(r.series, 8);
      assert.equal(r.minTime, 1_700_000_000_000);
      assert.equal(r.maxTime, 1_700_000_030_500);
      const [temp] = await db.select(
        [new LabelMatcher('=', '__name__', 'temp_celsius')],
        -Infinity,
        Infinity,
      );
      assert.deepEqual([...temp.timestamps], [1_700_000_000_000, 1_700_000_030_500]);
      assert.deepEqual([...temp.values], [20, 21.5]);
      const buckets = await db.series([new LabelMatcher('=', '__name__', 'lat_bucket')], -Infinity, Infinity);
      assert.deepEqual(buckets.map((l) => l.find((x) => x.name === 'le')?.value).sort(), ['+Inf', '0.1']);
      const report = formatAnalysis(await db.analyze(), 'test');
      assert.match(report, /Total Series: 8/);
      assert.match(report, /Samples: 10/);
      assert.match(report, /Highest cardinality metric names:\n2 http_requests_total/);
      await db.close();
    });
  }

  it('refuses a sample without a timestamp, naming the line', async () => {
    await assert.rejects(
      importText('# TYPE a gauge\na 1 1\na 2\n# EOF\n'),
      /line 3: sample without a timestamp/,
    );
  });

  it('refuses a file without # EOF and data after it', async () => {
    await assert.rejects(importText('a 1 1\n'), /expected "# EOF"/);
    await assert.rejects(importText('a 1 1\n# EOF\nb 1 1\n', 8), /unexpected data after "# EOF"/);
  });

  it('gives the line of a syntax error in a later piece', async () => {
    const lines = ['# TYPE a gauge'];
    for (let i = 0; i < 50; i++) lines.push(`a{i="${i}"} 1 ${i}`);
    lines.push('a{i=broken} 1 1', '# EOF', '');
    await assert.rejects(importText(lines.join('\n'), 100), /line 52: /);
  });
});
