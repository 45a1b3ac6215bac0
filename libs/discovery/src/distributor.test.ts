import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusConfig } from '@pharos/config';
import { staticGroups } from './static.js';
import { TargetDistributor, type Assignment } from './distributor.js';
import { owner } from './ring.js';

const config = parsePrometheusConfig(
  `scrape_configs:
  - job_name: many
    static_configs: [{targets: [${Array.from({ length: 600 }, (_, i) => `'host-${i}:9100'`).join(', ')}]}]
    relabel_configs:
      - source_labels: [__address__]
        regex: 'host-1\\d\\d:9100'
        action: drop
`,
).scrapeConfigs;

function subscriber(id: string) {
  const s = {
    id,
    last: undefined as Assignment | undefined,
    sends: 0,
    send: (a: Assignment) => ((s.last = a), s.sends++),
  };
  return s;
}

const keys = (a: Assignment | undefined) => new Set((a?.targets ?? []).map((t) => t.key));

describe('target distribution by rendezvous hashing', () => {
  it('gives every target to exactly one scraper, in fair shares', () => {
    const d = new TargetDistributor();
    d.applyConfig(config);
    d.setGroups('many', staticGroups(config[0]));
    const subs = ['scraper-a', 'scraper-b', 'scraper-c'].map(subscriber);
    for (const s of subs) d.subscribe(s);
    const sets = subs.map((s) => keys(s.last));
    const total = sets.reduce((n, s) => n + s.size, 0);
    assert.equal(total, 500, '100 dropped by relabeling, the rest assigned once');
    assert.equal(new Set(sets.flatMap((s) => [...s])).size, 500, 'no target twice');
    for (const s of sets) assert.ok(s.size > 500 / 3 - 50 && s.size < 500 / 3 + 50, `share ${s.size}`);
    assert.equal(d.droppedTargets().length, 100);
    assert.equal(subs[0].last?.members, 3);
  });

  it('moves only the leaving scraper’s targets, and a joining one takes a share from each', () => {
    const d = new TargetDistributor();
    d.applyConfig(config);
    d.setGroups('many', staticGroups(config[0]));
    const [a, b, c] = ['a', 'b', 'c'].map(subscriber);
    d.subscribe(a);
    const leaveB = d.subscribe(b);
    d.subscribe(c);
    const before = { a: keys(a.last), b: keys(b.last), c: keys(c.last) };
    leaveB();
    const after = { a: keys(a.last), c: keys(c.last) };
    for (const k of before.a) assert.ok(after.a.has(k), 'a keeps what it had');
    for (const k of before.c) assert.ok(after.c.has(k), 'c keeps what it had');
    assert.equal(after.a.size + after.c.size, 500);
    for (const k of before.b)
      assert.ok(after.a.has(k) !== after.c.has(k), 'each of b’s targets went to one of the others');
    const d2 = subscriber('d');
    d.subscribe(d2);
    const joined = keys(d2.last);
    assert.ok(joined.size > 100 && joined.size < 230, `fair share for the newcomer: ${joined.size}`);
    for (const k of joined) assert.ok(after.a.has(k) || after.c.has(k));
    for (const k of keys(a.last)) assert.ok(after.a.has(k), 'a only lost targets, gained none');
  });

  it('sends a scraper nothing new when its set did not change, and follows reloads', () => {
    const d = new TargetDistributor();
    d.applyConfig(config);
    const s = subscriber('only');
    d.subscribe(s);
    d.setGroups('many', staticGroups(config[0]));
    const sends = s.sends;
    d.setGroups('many', staticGroups(config[0]));
    assert.equal(s.sends, sends);
    d.applyConfig([]);
    assert.deepEqual(s.last?.targets, []);
    assert.deepEqual(s.last?.scrapePools, []);
  });

  it('is stable: the owner of a key depends only on the members', () => {
    assert.equal(owner('k1', ['x', 'y', 'z']), owner('k1', ['z', 'y', 'x']));
    assert.equal(owner('k1', []), undefined);
  });
});
