import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileLog, type RecordCodec, type SegmentCodec } from './index.js';

const text: RecordCodec<string> = {
  encode: (s) => new TextEncoder().encode(s),
  decode: (b) => new TextDecoder().decode(b),
};

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pharos-wal-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function readAll(log: FileLog<string>, group: string, p: number): Promise<string[]> {
  const seen: string[] = [];
  const sub = log.consume(p, await log.committed(group, p), async (off, v) => {
    seen.push(`${off}:${v}`);
  });
  await sub.drained();
  await sub.stop();
  return seen;
}

function segmentFiles(dir: string, p: number): string[] {
  return readdirSync(join(dir, `p-${p}`)).sort();
}

describe('FileLog', () => {
  it('replays what was appended but not committed after a reopen', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 2, text);
    for (const v of ['a', 'b', 'c', 'd']) await log.append(1, v);
    await log.append(0, 'x');
    await log.commit('g', 1, 2);
    await log.close();

    const again = FileLog.open(dir, 2, text);
    assert.deepEqual(await readAll(again, 'g', 1), ['2:c', '3:d']);
    assert.deepEqual(await readAll(again, 'g', 0), ['0:x']);
    assert.equal(again.endOffset(1), 4);
    assert.equal(await again.append(1, 'e'), 4);
    await again.close();
  });

  it('cuts a torn record off the tail and keeps every whole one', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 1, text);
    await log.append(0, 'one');
    await log.append(0, 'two');
    await log.close();
    const seg = join(dir, 'p-0', segmentFiles(dir, 0)[0]);
    const whole = statSync(seg).size;
    appendFileSync(seg, Buffer.from([9, 0, 0, 0, 1, 2]));

    const repairs: string[] = [];
    const again = FileLog.open(dir, 1, text, { onRepair: (m) => repairs.push(m) });
    assert.match(repairs[0], /torn record header at byte \d+ \(offset 2\); truncated there/);
    assert.equal(statSync(seg).size, whole);
    assert.deepEqual(await readAll(again, 'g', 0), ['0:one', '1:two']);
    assert.equal(await again.append(0, 'three'), 2);
    await again.close();
  });

  it('stops at a record whose checksum does not match', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 1, text);
    for (const v of ['aa', 'bb', 'cc']) await log.append(0, v);
    await log.close();
    const seg = join(dir, 'p-0', segmentFiles(dir, 0)[0]);
    truncateSync(seg, statSync(seg).size - 1);
    appendFileSync(seg, 'X');
    const repairs: string[] = [];
    const again = FileLog.open(dir, 1, text, { onRepair: (m) => repairs.push(m) });
    assert.match(repairs[0], /checksum mismatch .*offset 2/);
    assert.deepEqual(await readAll(again, 'g', 0), ['0:aa', '1:bb']);
    await again.close();
  });

  it('rolls segments and deletes those every group has committed past', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 1, text, { segmentBytes: 40 });
    for (let i = 0; i < 10; i++) await log.append(0, `record-${i}`);
    assert.ok(segmentFiles(dir, 0).length >= 5, segmentFiles(dir, 0).join());
    await log.commit('g', 0, 10);
    assert.deepEqual(segmentFiles(dir, 0), ['00000000000000000008.seg']);
    await log.close();
    const again = FileLog.open(dir, 1, text, { segmentBytes: 40 });
    assert.deepEqual(await readAll(again, 'g', 0), []);
    assert.equal(await again.append(0, 'next'), 10);
    await again.close();
  });

  it('refuses a directory made with another partition count', async () => {
    const dir = tempDir();
    await FileLog.open(dir, 2, text).close();
    assert.throws(() => FileLog.open(dir, 3, text), /has 2 partitions, not 3/);
  });
});

/**
 * Records of space-separated words, each word spelled out once per segment ("=word") and named
 * by its number after that ("#3"): the shape of the sample codec's series dictionary.
 */
class WordSegment implements SegmentCodec<string> {
  readonly words: string[] = [];
  encodeFramed(value: string, header: number): Uint8Array {
    const out = value.split(' ').map((w) => {
      const i = this.words.indexOf(w);
      if (i >= 0) return `#${i}`;
      this.words.push(w);
      return `=${w}`;
    });
    const body = new TextEncoder().encode(out.join(' '));
    const frame = new Uint8Array(header + body.length);
    frame.set(body, header);
    return frame;
  }
  decode(bytes: Uint8Array): string {
    return new TextDecoder()
      .decode(bytes)
      .split(' ')
      .map((t) => {
        if (t.startsWith('=')) return this.words[this.words.push(t.slice(1)) - 1];
        const w = this.words[Number(t.slice(1))];
        if (w === undefined) throw new Error(`word ${t} not defined in this segment`);
        return w;
      })
      .join(' ');
  }
  skip(bytes: Uint8Array): void {
    this.decode(bytes);
  }
}
const words: RecordCodec<string> = { ...text, segment: () => new WordSegment() };

describe('FileLog with a codec that keeps state per segment', () => {
  const records = ['up down', 'up left', 'down up right', 'left left', 'up', 'right down'];

  it('spells a word out once per segment, and reads every segment from its own start', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 1, words, { segmentBytes: 30 });
    for (const r of records) await log.append(0, r);
    await log.close();
    const files = segmentFiles(dir, 0);
    assert.ok(files.length >= 2, files.join());
    // Each segment's first use of a word spells it out, whatever earlier segments did.
    for (const f of files) {
      const raw = readFileSync(join(dir, 'p-0', f), 'latin1');
      const first = raw.match(/[=#]\S+/)?.[0] ?? '';
      assert.match(first, /^=/, `${f}: ${raw}`);
    }
    const again = FileLog.open(dir, 1, words, { segmentBytes: 30 });
    assert.deepEqual(
      await readAll(again, 'g', 0),
      records.map((r, i) => `${i}:${r}`),
    );
    await again.close();
  });

  it('replays from a commit in the middle of a segment, learning the words before it', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 1, words);
    for (const r of records) await log.append(0, r);
    await log.commit('g', 0, 3);
    await log.close();
    const again = FileLog.open(dir, 1, words);
    assert.deepEqual(await readAll(again, 'g', 0), ['3:left left', '4:up', '5:right down']);
    // After a reopen, appends start a segment of their own: the writer's state is not rebuilt.
    assert.equal(await again.append(0, 'up right'), 6);
    assert.equal(segmentFiles(dir, 0).length, 2);
    await again.close();
    const third = FileLog.open(dir, 1, words);
    assert.deepEqual((await readAll(third, 'g', 0)).slice(-1), ['6:up right']);
    await third.close();
  });
});

describe('FileLog memory', () => {
  it('keeps in memory only what a subscription has not handled; a reopen still replays it from disk', async () => {
    const dir = tempDir();
    const log = FileLog.open(dir, 1, text);
    const seen: string[] = [];
    const sub = log.consume(0, 0, async (off, v) => {
      seen.push(`${off}:${v}`);
    });
    for (const v of ['a', 'b', 'c']) await log.append(0, v);
    await sub.drained();
    // A late subscriber in the same process starts after what was handled: memory was released.
    const late: string[] = [];
    const again = log.consume(0, 0, async (off, v) => {
      late.push(`${off}:${v}`);
    });
    await again.drained();
    assert.deepEqual(late, []);
    await again.stop();
    await sub.stop();
    await log.close();
    // Nothing was committed, so a restart replays everything from the segment files.
    const reopened = FileLog.open(dir, 1, text);
    assert.deepEqual(await readAll(reopened, 'g', 0), ['0:a', '1:b', '2:c']);
    await reopened.close();
  });
});
