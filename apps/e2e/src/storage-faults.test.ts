// Storage faults of the embedded mode: a damaged write-ahead log, a damaged LevelDB log, and a
// full disk (a small tmpfs). Each shows what survives, that the process stays up, and how it
// goes on once the fault is gone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import { instantQuery, removeDir, startPharos, tempDir, waitFor, type Pharos } from './harness.js';

const selfScrape = (port: number) => `global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: self
    static_configs: [{targets: ['127.0.0.1:${port}']}]
`;

/** Flips `n` bytes in the middle of `file`, as a bad sector or a stray write would. */
function damage(file: string, n = 64): void {
  const b = readFileSync(file);
  const at = Math.floor(b.length / 2);
  for (let i = at; i < Math.min(b.length, at + n); i++) b[i] ^= 0xff;
  writeFileSync(file, b);
}

async function upSamples(url: string): Promise<number> {
  const r = await instantQuery(url, 'count_over_time(up[1h])');
  return Number(r[0]?.value[1] ?? 0);
}

async function freshUp(p: Pharos, after: number): Promise<void> {
  await waitFor('a scrape after the restart', async () => {
    const r = await instantQuery(p.url, 'timestamp(up) * 1000');
    return r.length === 1 && Number(r[0].value[1]) > after ? true : undefined;
  });
}

describe('storage faults, embedded mode', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('a damaged write-ahead log: cut at the damage, the rest replayed, the cut logged', async () => {
    const dir = tempDir('pharos-wal-damage-');
    dirs.push(dir);
    // Long checkpoints: everything scraped lives in the write-ahead log only.
    const args = ['--storage.tsdb.checkpoint-interval=1h', '--storage.tsdb.shards=1'];
    const first = await startPharos(selfScrape, { dir, args });
    await waitFor('ten scrapes', async () => ((await upSamples(first.url)) >= 10 ? true : undefined));
    await first.proc.stop('SIGKILL');
    const segDir = join(dir, 'data', 'wal', 'p-0');
    const seg = join(segDir, readdirSync(segDir).sort().at(-1) as string);
    const size = statSync(seg).size;
    damage(seg);
    const second = await startPharos(selfScrape, { dir, port: first.port, args });
    try {
      const restartedAt = Date.now();
      assert.match(second.proc.stderr, /write-ahead log repaired/);
      assert.match(second.proc.stderr, /checksum mismatch|torn record/);
      // What was before the damage came back; what was after it is the loss, and it is bounded
      // by the segment's second half.
      const kept = await upSamples(second.url);
      assert.ok(kept >= 1, `samples before the damage replayed: ${kept}`);
      assert.ok(statSync(seg).size < size, 'the segment was cut at the damage');
      await freshUp(second, restartedAt);
    } finally {
      await second.proc.stop();
    }
  });

  it('a damaged LevelDB log: the damaged block dropped and reported, the service up', async () => {
    const dir = tempDir('pharos-leveldb-damage-');
    dirs.push(dir);
    const args = ['--storage.tsdb.checkpoint-interval=1s', '--storage.tsdb.shards=1'];
    const first = await startPharos(selfScrape, { dir, args });
    await waitFor('ten scrapes', async () => ((await upSamples(first.url)) >= 10 ? true : undefined));
    // A clean stop: every sample is in LevelDB and the write-ahead log is committed past them.
    assert.equal(await first.proc.stop(), 0);
    const shard = join(dir, 'data', 'shard-0');
    const logFile = readdirSync(shard).find((f) => f.endsWith('.log')) as string;
    damage(join(shard, logFile));
    const second = await startPharos(selfScrape, { dir, port: first.port, args });
    try {
      const restartedAt = Date.now();
      assert.match(second.proc.stderr, /storage was damaged/);
      assert.match(second.proc.stderr, /Corruption: checksum mismatch/);
      await freshUp(second, restartedAt);
    } finally {
      await second.proc.stop();
    }
  });

  it('a full disk: remote writes are refused with 503 and retried into storage once there is room', async () => {
    const mount = tempDir('pharos-full-disk-');
    dirs.push(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]);
    try {
      const p = await startPharos(() => 'scrape_configs: []\n', {
        dir: mount,
        args: [
          '--web.enable-remote-write-receiver',
          '--storage.tsdb.checkpoint-interval=1s',
          '--storage.tsdb.shards=1',
        ],
      });
      try {
        const write = async (v: number) => {
          // Many series per write: a record needs new pages of the volume, not the rest of one.
          const b = new SampleBatchBuilder();
          const t = Date.now();
          for (let i = 0; i < 2000; i++)
            b.add(b.addSeries(labelsFrom({ __name__: 'disk_full_probe', k: String(v), i: String(i) })), t, v);
          return fetch(`${p.url}/api/v1/write`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-protobuf',
              'content-encoding': 'snappy',
              'x-prometheus-remote-write-version': '0.1.0',
            },
            body: snappyEncode(encodeWriteRequest(b.build())),
          });
        };
        assert.equal((await write(1)).status, 204);
        // Fill what is left of the volume.
        const filler = join(mount, 'filler');
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
        } catch {
          // dd stops with "No space left on device": that is the point.
        }
        const refused = await write(2);
        const reason = await refused.text();
        assert.equal(refused.status, 503, reason);
        assert.match(reason, /ENOSPC|no space/i);
        // Long enough for checkpoints to LevelDB to fail on the full volume too.
        await new Promise((r) => setTimeout(r, 2500));
        // Up and answering throughout.
        assert.equal((await fetch(`${p.url}/-/healthy`)).status, 200);
        assert.equal((await instantQuery(p.url, 'count(disk_full_probe)'))[0].value[1], '2000');
        rmSync(filler);
        // The sender's retry now lands, and so do new writes.
        assert.equal((await write(2)).status, 204);
        assert.equal((await write(3)).status, 204);
        const got = await instantQuery(p.url, 'sort(count by (k) (disk_full_probe))');
        assert.deepEqual(
          got.map((s) => s.value[1]),
          ['2000', '2000', '2000'],
        );
        // And they are durable: they survive a restart.
        assert.equal(await p.proc.stop(), 0);
        const again = await startPharos(() => 'scrape_configs: []\n', {
          dir: mount,
          port: p.port,
          args: ['--storage.tsdb.shards=1'],
        });
        try {
          assert.equal((await instantQuery(again.url, 'count(disk_full_probe)'))[0].value[1], '6000');
        } finally {
          await again.proc.stop();
        }
      } finally {
        await p.proc.stop();
      }
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});
