import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabelMatcher, labelsFrom, type Labels } from '@pharos/model';
import { FanoutQueryable, type Queryable, type SeriesData } from './index.js';

function store(series: Array<[Record<string, string>, number[]]>): Queryable {
  const data: SeriesData[] = series.map(([l, ts]) => ({
    labels: labelsFrom(l),
    timestamps: Float64Array.from(ts),
    values: Float64Array.from(ts.map((t) => t / 10)),
  }));
  return {
    select: async () => data,
    series: async () => data.map((d) => d.labels),
    labelNames: async () => [...new Set(data.flatMap((d) => d.labels.map((l) => l.name)))].sort(),
    labelValues: async (name) => [
      ...new Set(data.map((d) => d.labels.find((l) => l.name === name)?.value ?? '')),
    ],
  };
}

const any = [new LabelMatcher('=~', '__name__', '.+')];
const name = (l: Labels) => l.map((x) => `${x.name}=${x.value}`).join(',');

describe('FanoutQueryable', () => {
  it('concatenates shards and merges replicas without repeating a timestamp', async () => {
    const shardA = store([[{ __name__: 'm', i: '1' }, [10, 20, 30]]]);
    const shardB = store([[{ __name__: 'm', i: '2' }, [10]]]);
    // A replica of shard A that missed 20 (it restarted) and has 40 the other has not yet.
    const replicaA = store([[{ __name__: 'm', i: '1' }, [10, 30, 40]]]);
    const q = new FanoutQueryable([shardA, shardB, replicaA]);
    const got = (await q.select(any, 0, 100)).sort((a, b) => name(a.labels).localeCompare(name(b.labels)));
    assert.deepEqual(
      got.map((s) => [name(s.labels), [...s.timestamps], [...s.values]]),
      [
        ['__name__=m,i=1', [10, 20, 30, 40], [1, 2, 3, 4]],
        ['__name__=m,i=2', [10], [1]],
      ],
    );
    assert.equal((await q.series(any, 0, 100)).length, 2);
    assert.deepEqual(await q.labelNames(any, 0, 100), ['__name__', 'i']);
    assert.deepEqual(await q.labelValues('i', any, 0, 100), ['1', '2']);
  });
});
