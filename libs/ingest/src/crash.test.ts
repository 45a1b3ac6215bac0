import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { LabelMatcher } from '@pharos/model';
import { openStack, SERIES } from './testdata/crash-writer.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const writer = fileURLToPath(new URL('./testdata/crash-writer.ts', import.meta.url));

/** Runs the writer until it has acknowledged `target` batches, then kills it with SIGKILL. */
function ingestThenKill(dir: string, target: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, 'run', dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer acknowledged only ${acked} batches in time: ${err}`));
    }, 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const l of lines) acked = Math.max(acked, Number(l.split(' ')[1]));
      if (acked >= target && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Lines printed before the kill landed are acknowledged too; read what is left.
      for (const l of out.split('\n'))
        if (l.startsWith('acked ')) acked = Math.max(acked, Number(l.slice(6)));
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`writer exited with ${code}: ${err}`));
    });
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged sample through kill -9 mid-ingest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-crash-'));
    try {
      const acked = await ingestThenKill(dir, 400);
      assert.ok(acked >= 400);
      const { db, log, ingester } = await openStack(dir, 0);
      // Checkpoints happened before the kill, so this also proves the replay starts at the right place.
      const committed = await Promise.all([0, 1, 2].map((p) => log.committed('ingester', p)));
      assert.ok(
        committed.some((c) => c > 0),
        `no checkpoint before the kill: ${committed.join()}`,
      );
      await ingester.drain();
      const data = await db.select([new LabelMatcher('=', '__name__', 'crash_test')], -Infinity, Infinity);
      assert.equal(data.length, SERIES);
      for (const s of data) {
        const i = Number(s.labels.find((l) => l.name === 'i')?.value);
        const times = new Set(s.timestamps);
        for (let k = 1; k <= acked; k++) {
          if (!times.has(k * 1000)) assert.fail(`series i=${i} lost the acknowledged sample of batch ${k}`);
        }
        // Nothing invented: values are exactly what was written.
        for (let j = 0; j < s.timestamps.length; j++) assert.equal(s.values[j], s.timestamps[j] / 1000 + i);
      }
      await ingester.stop();
      await log.close();
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
