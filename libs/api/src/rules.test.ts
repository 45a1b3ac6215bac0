import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Server } from '@grpc/grpc-js';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Engine } from '@pharos/promql';
import { engineRuleQuery, RuleManager, storageForStateQuery } from '@pharos/rules';
import { listenGrpc } from '@pharos/ingest';
import { MemoryQueryable } from '@pharos/tsdb';
import { Params } from './params.js';
import { goTimeJSON } from '@pharos/template';
import { alertsJSON, rulesJSON } from './rules.js';
import { addRulerService, localRuleSource, remoteRuleSource, ruleGroupsOf } from './rule-source.js';

describe('/api/v1/rules and /api/v1/alerts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharos-api-rules-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports groups, rules and alerts as Prometheus does, with its filters', async () => {
    writeFileSync(
      join(dir, 'r.yml'),
      `groups:
  - name: g
    interval: 1h
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        labels: {severity: page}
        annotations: {summary: "{{ $labels.job }} down"}
`,
    );
    const store = new MemoryQueryable();
    store.add({ __name__: 'up', job: 'a' }, [Date.now() - 1000], [0]);
    const m = new RuleManager({
      query: engineRuleQuery(new Engine(), store),
      append: async () => undefined,
      notify: () => undefined,
      readForState: storageForStateQuery(store),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    await m.update({
      patterns: ['r.yml'],
      baseDir: dir,
      evaluationInterval: 60_000,
      queryOffset: 0,
      externalLabels: {},
      externalURL: '',
    });
    const p = (q: string) => Params.from(Object.fromEntries(new URLSearchParams(q)), undefined);
    const before = JSON.parse(rulesJSON(ruleGroupsOf(m), p(''))) as {
      groups: Array<{ rules: Array<Record<string, unknown>> }>;
    };
    assert.equal(before.groups[0].rules[1].state, 'unknown');
    assert.equal(before.groups[0].rules[1].lastEvaluation, '0001-01-01T00:00:00Z');
    const [g] = m.groups();
    await g.eval(Date.now());
    const all = JSON.parse(rulesJSON(ruleGroupsOf(m), p(''))) as {
      groups: Array<{ name: string; interval: number; rules: Array<Record<string, unknown>> }>;
    };
    assert.equal(all.groups[0].name, 'g');
    assert.equal(all.groups[0].interval, 3600);
    const [rec, alert] = all.groups[0].rules;
    assert.deepEqual([rec.type, rec.health, rec.query], ['recording', 'ok', 'sum by (job) (up)']);
    assert.deepEqual([alert.type, alert.state, alert.duration], ['alerting', 'firing', 0]);
    const alerts = alert.alerts as Array<Record<string, unknown>>;
    assert.deepEqual(alerts[0].labels, { alertname: 'Down', job: 'a', severity: 'page' });
    assert.equal(alerts[0].value, '0e+00');
    const onlyRecords = JSON.parse(rulesJSON(ruleGroupsOf(m), p('type=record'))) as {
      groups: Array<{ rules: unknown[] }>;
    };
    assert.equal(onlyRecords.groups[0].rules.length, 1);
    const none = JSON.parse(rulesJSON(ruleGroupsOf(m), p('rule_group[]=other'))) as { groups: unknown[] };
    assert.equal(none.groups.length, 0);
    assert.throws(() => rulesJSON(ruleGroupsOf(m), p('type=bogus')), /invalid query parameter type='bogus'/);
    const active = JSON.parse(alertsJSON(ruleGroupsOf(m))) as { alerts: Array<{ state: string }> };
    assert.equal(active.alerts[0].state, 'firing');

    // Over pharos.v1.Ruler, as the distributed querier gathers them: the same answer, and a
    // ruler that does not answer is a warning naming it.
    const server = new Server();
    addRulerService(
      server,
      localRuleSource(m, () => ['http://am:9093/api/v2/alerts']),
    );
    const port = await listenGrpc(server, '127.0.0.1:0');
    const remote = remoteRuleSource([`127.0.0.1:${port}`, `127.0.0.1:${port}`, '127.0.0.1:1'], {
      timeoutMs: 3000,
    });
    try {
      const got = await remote.source();
      assert.equal(rulesJSON(got.groups, p('')), rulesJSON(ruleGroupsOf(m), p('')));
      assert.equal(alertsJSON(got.groups), alertsJSON(ruleGroupsOf(m)));
      assert.deepEqual(got.alertmanagers, ['http://am:9093/api/v2/alerts']);
      assert.equal(got.warnings.length, 1);
      assert.match(got.warnings[0], /^ruler 127\.0\.0\.1:1 did not answer: /);
    } finally {
      remote.close();
      server.forceShutdown();
    }
    await m.stop();
  });

  it('formats times as Go does', () => {
    assert.equal(goTimeJSON(Date.UTC(2026, 0, 2, 3, 4, 5)), '2026-01-02T03:04:05Z');
    assert.equal(goTimeJSON(Date.UTC(2026, 0, 2, 3, 4, 5, 120)), '2026-01-02T03:04:05.12Z');
  });
});
