import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sortSliced, TimeSlice } from './time-slice.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TimeSlice', () => {
  it('runs at most one paused slice per turn of the event loop, however many tasks wait', async () => {
    let slices = 0;
    let stop = false;
    const heavy = async () => {
      const slice = new TimeSlice();
      while (!stop) {
        slices++;
        await slice.pause();
      }
    };
    const tasks = Array.from({ length: 12 }, heavy);
    await turn();
    const before = slices;
    // A light request that needs three turns (accept, read, answer) waits for three slices, not 36.
    for (let i = 0; i < 3; i++) await turn();
    const during = slices - before;
    stop = true;
    await Promise.all(tasks);
    assert.ok(during <= 4, `${during} slices ran in 3 turns`);
    assert.ok(during >= 2, `${during} slices ran in 3 turns: paused work must still progress`);
  });

  it('resumes paused tasks in arrival order, so none starves', async () => {
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2].map(async (id) => {
        const slice = new TimeSlice();
        for (let round = 0; round < 3; round++) {
          await slice.pause();
          order.push(id);
        }
      }),
    );
    assert.deepEqual(order, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('throws the signal’s reason once the work is abandoned', async () => {
    const ac = new AbortController();
    const slice = new TimeSlice(ac.signal);
    const paused = slice.pause();
    ac.abort(new Error('query timed out'));
    await assert.rejects(paused, /query timed out/);
    await assert.rejects(slice.tick(), /query timed out/);
  });

  it('sorts in runs as Array.prototype.sort would, stably', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ key: (i * 7919) % 101, i }));
    const want = [...items].sort((a, b) => a.key - b.key);
    const got = await sortSliced(items, (a, b) => a.key - b.key, new TimeSlice());
    assert.deepEqual(got, want);
  });
});
