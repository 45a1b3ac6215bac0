import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { BcryptUsers } from './basic-auth.js';

// Cost 12: a check takes a few hundred milliseconds of CPU, long enough to see what waits on it.
const SLOW = bcrypt.hashSync('wonderland', 12);

describe('BcryptUsers', () => {
  it('checks passwords in a worker thread, leaving the event loop free', async () => {
    const users = new BcryptUsers({ alice: SLOW });
    let turns = 0;
    let checking = true;
    const spin = () => {
      turns++;
      if (checking) setImmediate(spin);
    };
    setImmediate(spin);
    const t0 = performance.now();
    const outcome = await users.verify('alice', 'wonderland', 'a');
    const ms = performance.now() - t0;
    checking = false;
    assert.equal(outcome, 'ok');
    // On the main thread the check would be one long task and the loop would not turn during it.
    assert.ok(turns > 20, `the event loop turned ${turns} times in ${ms.toFixed(0)} ms of checking`);
  });

  it('refuses unknown users and wrong passwords as a known one costs', async () => {
    const users = new BcryptUsers({ alice: bcrypt.hashSync('wonderland', 4) });
    assert.equal(await users.verify('alice', 'wonderland'), 'ok');
    assert.equal(await users.verify('alice', 'wrong'), 'denied');
    assert.equal(await users.verify('bob', 'wonderland'), 'denied');
  });

  it('bounds the checks one client has pending, not the others', async () => {
    const users = new BcryptUsers({ alice: SLOW });
    const attempts = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => users.verify('alice', `wrong${i}`, 'mallory')),
      users.verify('alice', 'wonderland', 'alice-host'),
    ]);
    assert.deepEqual(attempts.slice(0, 5).sort(), ['busy', 'busy', 'busy', 'denied', 'denied']);
    assert.equal(attempts[5], 'ok');
  });

  it('answers a remembered right password at once, whatever wrong ones are pending', async () => {
    const users = new BcryptUsers({ alice: SLOW });
    assert.equal(await users.verify('alice', 'wonderland', 'alice-host'), 'ok');
    const order: string[] = [];
    const wrong = [1, 2].map((i) =>
      users.verify('alice', `wrong${i}`, 'mallory').then((o) => order.push(`wrong ${o}`)),
    );
    // Wrong passwords from other clients evict nothing: only successes are remembered.
    for (let i = 0; i < 6; i++) void users.verify('alice', `guess${i}`, `host${i}`);
    const right = users.verify('alice', 'wonderland', 'alice-host').then((o) => order.push(`right ${o}`));
    await Promise.all([...wrong, right]);
    assert.equal(order[0], 'right ok');
  });
});
