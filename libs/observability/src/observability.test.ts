import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createRegistry, Lifecycle, runRole } from './index.js';

describe('Lifecycle', () => {
  it('stops components in reverse start order, once, and reports failures after running all', async () => {
    const order: string[] = [];
    const lc = new Lifecycle(pino({ level: 'silent' }));
    lc.onStop('storage', async () => void order.push('storage'));
    lc.onStop('broken', async () => {
      order.push('broken');
      throw new Error('boom');
    });
    lc.onStop('http', async () => void order.push('http'));
    await assert.rejects(lc.stop(), /shutdown had errors/);
    await assert.rejects(lc.stop());
    assert.deepEqual(order, ['http', 'broken', 'storage']);
  });
});

describe('createRegistry', () => {
  it('exposes process metrics and build info', async () => {
    const text = await createRegistry().metrics();
    assert.match(text, /^pharos_build_info\{version="0\.1\.0",.*\} 1$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
  });
});

describe('runRole', () => {
  it('says the role is not built yet and exits non-zero', () => {
    const write = process.stderr.write.bind(process.stderr);
    let out = '';
    process.stderr.write = ((s: string) => {
      out += s;
      return true;
    }) as typeof process.stderr.write;
    try {
      runRole('ruler');
    } finally {
      process.stderr.write = write;
    }
    assert.equal(process.exitCode, 2);
    process.exitCode = 0;
    assert.match(out, /pharos-ruler: the ruler role is not built yet/);
  });
});
