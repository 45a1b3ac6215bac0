import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gate } from './gate.js';

describe('Gate (--query.max-concurrency)', () => {
  it('runs at most limit at once, the rest in arrival order', async () => {
    const gate = new Gate(2);
    const order: string[] = [];
    let running = 0;
    let peak = 0;
    const job = (name: string, ms: number) =>
      gate.run(new AbortController().signal, async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        running--;
        return name;
      });
    const results = await Promise.all([job('a', 30), job('b', 10), job('c', 1), job('d', 1)]);
    assert.deepEqual(results, ['a', 'b', 'c', 'd']);
    assert.equal(peak, 2);
    assert.deepEqual(order.slice(0, 3), ['start a', 'start b', 'start c']);
    assert.equal(gate.inUse, 0);
  });

  it('gives up waiting when the query times out, without harming the others', async () => {
    const gate = new Gate(1);
    let release!: () => void;
    const first = gate.run(new AbortController().signal, () => new Promise<void>((r) => (release = r)));
    const timeout = new AbortController();
    setTimeout(() => timeout.abort(new Error('timed out')), 20);
    const waiting = gate.run(timeout.signal, async () => 'never');
    await assert.rejects(waiting, /timed out/);
    const third = gate.run(new AbortController().signal, async () => 'third');
    release();
    await first;
    assert.equal(await third, 'third');
    assert.equal(gate.inUse, 0);
  });
});
