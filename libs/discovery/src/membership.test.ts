import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerMember, watchMembers, type Member } from './index.js';
import { eventually, startFakeConsul } from './testing/index.js';

let fake: Awaited<ReturnType<typeof startFakeConsul>>;
before(async () => {
  fake = await startFakeConsul();
});
after(() => fake.close());

describe('membership through Consul (a stand-in speaking its API)', () => {
  it('sees instances announce themselves with their metadata, and leave', async () => {
    let members: readonly Member[] = [];
    const errors: string[] = [];
    const watch = watchMembers(
      fake.address,
      'pharos-ingester',
      (m) => (members = m),
      (e) => errors.push(e),
    );
    try {
      const leaveA = await registerMember(fake.address, {
        service: 'pharos-ingester',
        id: 'ingester-a',
        host: '127.0.0.1',
        port: 9097,
        checkUrl: 'http://127.0.0.1:9101/-/ready',
        meta: { partitions: '0,1', group: 'g' },
      });
      await registerMember(fake.address, {
        service: 'pharos-ingester',
        id: 'ingester-b',
        host: '127.0.0.1',
        port: 9098,
        checkUrl: 'http://127.0.0.1:9104/-/ready',
        meta: { partitions: '2,3', group: 'g' },
      });
      await eventually(() => members.length === 2, 'both members', 10_000);
      assert.deepEqual(members, [
        { id: 'ingester-a', address: '127.0.0.1:9097', meta: { partitions: '0,1', group: 'g' } },
        { id: 'ingester-b', address: '127.0.0.1:9098', meta: { partitions: '2,3', group: 'g' } },
      ]);
      await leaveA();
      await eventually(() => members.length === 1, 'a member to leave', 10_000);
      assert.equal(members[0].id, 'ingester-b');
      // A member whose check fails is no member.
      fake.consul.change(() => {
        for (const i of fake.consul.services.get('pharos-ingester') ?? []) i.status = 'critical';
      });
      await eventually(() => members.length === 0, 'a failing member to drop out', 10_000);
      assert.deepEqual(errors, []);
    } finally {
      watch.close();
    }
  });
});
