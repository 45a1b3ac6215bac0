import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownedPartitions } from './ownership.js';

describe('ownedPartitions', () => {
  const cases: Array<[string, Parameters<typeof ownedPartitions>[0], number[] | RegExp]> = [
    ['all by default', { total: 4, hostname: 'h' }, [0, 1, 2, 3]],
    ['an explicit list, sorted and once each', { total: 4, list: '2, 0,2', hostname: 'h' }, [0, 2]],
    [
      'a list beyond the topic',
      { total: 4, list: '4', hostname: 'h' },
      /want partition numbers below 4, got "4"/,
    ],
    ['a list that is not numbers', { total: 4, list: '1,x', hostname: 'h' }, /--ingester.partitions/],
    ['a share by number', { total: 8, instances: 3, instance: '1', hostname: 'h' }, [1, 4, 7]],
    ["a StatefulSet pod's share", { total: 4, instances: 2, hostname: 'pharos-ingester-1' }, [1, 3]],
    [
      'a host name without an ordinal',
      { total: 4, instances: 2, hostname: 'ingester' },
      /host name "ingester" does not end in -<number>/,
    ],
    [
      'an instance out of range',
      { total: 4, instances: 2, instance: '2', hostname: 'h' },
      /want 0\.\.1, got "2"/,
    ],
    [
      'more instances than partitions',
      { total: 2, instances: 3, instance: '2', hostname: 'h' },
      /owns none of 2/,
    ],
  ];
  for (const [name, flags, want] of cases) {
    it(name, () => {
      if (want instanceof RegExp) assert.throws(() => ownedPartitions(flags), want);
      else assert.deepEqual(ownedPartitions(flags), want);
    });
  }
});
