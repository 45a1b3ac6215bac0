import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { formatLabels, isStaleNaN, labelsToRecord } from '@pharos/model';
import { Engine } from '@pharos/promql';
import { MemoryQueryable } from '@pharos/tsdb';
import {
  expandRuleTemplate,
  Group,
  parseRuleFile,
  RuleFileError,
  RuleManager,
  engineRuleQuery,
  storageForStateQuery,
  type Alert,
  type RuleSample,
} from './index.js';

const M = 60_000;

/** A group over in-memory storage: results are written back so later rules and evaluations see them. */
function setup(ruleYaml: string, restored = true) {
  const store = new MemoryQueryable();
  const written: RuleSample[] = [];
  const sent: Array<{ expr: string; alerts: Alert[] }> = [];
  const query = engineRuleQuery(new Engine(), store);
  const cfg = parseRuleFile(ruleYaml, 'rules.yml')[0];
  const group = new Group(
    cfg,
    {
      query,
      append: async (samples) => {
        written.push(...samples);
        for (const s of samples) store.add(s.labels, [s.t], Float64Array.of(s.v));
      },
      notify: (expr, alerts) => sent.push({ expr, alerts: [...alerts] }),
      externalLabels: { cluster: 'c1' },
      externalURL: 'http://pharos:9090',
      resendDelay: M,
      defaultInterval: M,
      defaultQueryOffset: 0,
    },
    restored,
  );
  return { store, written, sent, group };
}

const at = (written: RuleSample[], t: number) =>
  written
    .filter((s) => s.t === t)
    .map((s) => `${formatLabels(s.labels)} ${isStaleNaN(s.v) ? 'stale' : s.v}`)
    .sort();

describe('recording rules', () => {
  it('writes results under the new name with rule labels, visible to the next rule, and marks vanished series stale', async () => {
    const { store, written, group } = setup(`
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: infra}
      - record: job:up:doubled
        expr: job:up:sum * 2
`);
    store.add({ __name__: 'up', job: 'a', instance: '1' }, [0, M], [1, 1]);
    store.add({ __name__: 'up', job: 'b', instance: '2' }, [0], [1]);
    await group.eval(M);
    assert.deepEqual(
      at(written, M),
      [
        '{__name__="job:up:doubled", job="a", team="infra"} 2',
        'job:up:sum{job="a", team="infra"} 1',
        'job:up:sum{job="b", team="infra"} 1',
        '{__name__="job:up:doubled", job="b", team="infra"} 2',
      ]
        .map((s) => s.replace(/^\{__name__="([^"]+)", /, '$1{'))
        .sort(),
    );
    // job b's up is gone after the lookback: its recorded series get stale markers.
    store.add({ __name__: 'up', job: 'a', instance: '1' }, [7 * M], [1]);
    await group.eval(7 * M);
    assert.deepEqual(at(written, 7 * M), [
      'job:up:doubled{job="a", team="infra"} 2',
      'job:up:doubled{job="b", team="infra"} stale',
      'job:up:sum{job="a", team="infra"} 1',
      'job:up:sum{job="b", team="infra"} stale',
    ]);
  });

  it('fails a rule whose labels make two results identical, and on its limit, keeping the others', async () => {
    const { store, group } = setup(`
groups:
  - name: g
    limit: 1
    rules:
      - record: r
        expr: up
        labels: {instance: same}
      - record: ok
        expr: vector(1)
`);
    store.add({ __name__: 'up', instance: '1' }, [0], [1]);
    store.add({ __name__: 'up', instance: '2' }, [0], [1]);
    await group.eval(M);
    const [bad, ok] = group.rules;
    assert.equal(bad.health, 'err');
    assert.equal(bad.lastError, 'vector contains metrics with the same labelset after applying rule labels');
    assert.equal(ok.health, 'ok');
  });
});

describe('alerting rules', () => {
  const rule = `
groups:
  - name: alerts
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} down, value {{ $value }}"
          total: "{{ with query \\"count(up)\\" }}{{ . | first | value }}{{ end }} targets"
`;

  it('goes pending, fires after for, keeps firing for keep_firing_for, resolves and is resent as resolved', async () => {
    const { store, written, sent, group } = setup(rule);
    const down = (t: number) => store.add({ __name__: 'up', job: 'node', instance: 'h:9100' }, [t], [0]);
    const up = (t: number) => store.add({ __name__: 'up', job: 'node', instance: 'h:9100' }, [t], [1]);
    down(0);
    await group.eval(0);
    const r = group.rules[0];
    assert.equal(r.health, 'ok');
    assert.deepEqual(at(written, 0), [
      'ALERTS_FOR_STATE{alertname="InstanceDown", instance="h:9100", job="node", severity="page"} 0',
      'ALERTS{alertname="InstanceDown", alertstate="pending", instance="h:9100", job="node", severity="page"} 1',
    ]);
    assert.equal(sent.length, 0, 'pending alerts are not sent');
    down(M);
    await group.eval(M);
    down(2 * M);
    await group.eval(2 * M);
    assert.ok(at(written, 2 * M).some((s) => s.includes('alertstate="firing"')));
    assert.equal(sent.length, 1);
    const a = sent[0].alerts[0];
    assert.equal(a.firedAt, 2 * M);
    assert.equal(a.validUntil, 2 * M + 4 * M);
    assert.deepEqual(labelsToRecord(a.annotations), {
      summary: 'h:9100 of node down, value 0',
      total: '1 targets',
    });
    assert.equal(sent[0].expr, 'up == 0');
    // Within the resend delay nothing is sent again; after it, the alert is resent.
    down(2.5 * M);
    await group.eval(2.5 * M);
    assert.equal(sent.length, 1);
    down(3.5 * M);
    await group.eval(3.5 * M);
    assert.equal(sent.length, 2);
    // The condition clears: keep_firing_for holds it firing for a minute.
    up(4 * M);
    await group.eval(4 * M);
    assert.ok(at(written, 4 * M).some((s) => s.includes('alertstate="firing"')));
    up(5 * M);
    await group.eval(5 * M);
    assert.ok(at(written, 5 * M).some((s) => s.includes('alertstate="firing"') && s.endsWith('stale')));
    const resolved = sent.at(-1)?.alerts[0];
    assert.equal(resolved?.resolvedAt, 5 * M);
    assert.equal(resolved?.state, 'inactive');
  });

  it('drops a pending alert that clears without sending anything', async () => {
    const { store, sent, group } = setup(rule);
    store.add({ __name__: 'up', job: 'node', instance: 'x' }, [0], [0]);
    await group.eval(0);
    store.add({ __name__: 'up', job: 'node', instance: 'x' }, [M], [1]);
    await group.eval(M);
    assert.equal(sent.length, 0);
    assert.equal((group.rules[0] as { active: Map<string, Alert> }).active.size, 0);
  });

  it('restores ActiveAt from ALERTS_FOR_STATE after a restart', async () => {
    const { store, written, group } = setup(rule.replace('for: 2m', 'for: 30m'), false);
    // Before the restart the alert had been active since t=0; the ruler went down at 10m.
    store.add(
      {
        __name__: 'ALERTS_FOR_STATE',
        alertname: 'InstanceDown',
        instance: 'h',
        job: 'node',
        severity: 'page',
      },
      [10 * M],
      [0],
    );
    store.add({ __name__: 'up', job: 'node', instance: 'h' }, [15 * M], [0]);
    await group.eval(15 * M);
    assert.equal(written.length, 0, 'nothing is written for the alert until its state is restored');
    await group.restoreForState(15 * M, storageForStateQuery(store), 3600_000, 10 * M);
    const alert = [...(group.rules[0] as { active: Map<string, Alert> }).active.values()][0];
    // 10m were spent pending before going down; the 5m of downtime are added on.
    assert.equal(alert.activeAt, 5 * M);
  });
});

describe('templates', () => {
  const ctx = {
    name: 'A',
    labels: { instance: 'web-1.example.com:8080', job: 'api' },
    externalLabels: { cluster: 'eu' },
    externalURL: 'https://prom.example.com/prometheus',
    value: 1234567.891,
    ts: 0,
  };
  const rows: Array<[string, string]> = [
    ['{{ $value | humanize }}', '1.235M'],
    ['{{ 0.000123 | humanize }}', '123u'],
    ['{{ 1048576 | humanize1024 }}', '1Mi'],
    ['{{ 3725 | humanizeDuration }}', '1h 2m 5s'],
    ['{{ 0.25 | humanizeDuration }}', '250ms'],
    ['{{ 0.1234 | humanizePercentage }}', '12.34%'],
    ['{{ 1700000000 | humanizeTimestamp }}', '2023-11-14 22:13:20 +0000 UTC'],
    ['{{ $labels.instance | stripPort }}', 'web-1.example.com'],
    ['{{ $labels.instance | stripDomain }}', 'web-1:8080'],
    ['{{ $externalLabels.cluster | toUpper }} {{ title "hello world" }}', 'EU Hello World'],
    ['{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}', 'web-1.example.com'],
    ['{{ match "^web" $labels.instance }}', 'true'],
    ['{{ pathPrefix }} {{ externalURL }}', '/prometheus https://prom.example.com/prometheus'],
    ['{{ printf "%.1f" $value }}', '1234567.9'],
    ['{{ "5m" | parseDuration }}', '300'],
    ['{{ with args 1 "x" }}{{ .arg0 }}{{ .arg1 }}{{ end }}', '1x'],
    ['{{ "<b>" | safeHtml }}', '<b>'],
  ];
  for (const [text, want] of rows)
    it(text, async () => assert.equal(await expandRuleTemplate(text, ctx), want));

  it('gives upstream error text for a template that does not parse or fails to run', async () => {
    assert.equal(
      await expandRuleTemplate('{{ nope }}', ctx),
      '<error expanding template: error parsing template __alert_A: template: __alert_A:1: function "nope" not defined>',
    );
    assert.match(
      await expandRuleTemplate('{{ humanize "abc" }}', ctx),
      /^<error expanding template: error executing template __alert_A: template: __alert_A:1:\d+: executing "__alert_A" at <humanize "abc">: error calling humanize: strconv.ParseFloat: parsing "abc": invalid syntax>$/,
    );
  });
});

describe('rule files', () => {
  it('reports every problem with file, line, group and rule', () => {
    const text = `
groups:
  - name: g
    rules:
      - record: both
        alert: both
        expr: up
      - alert: A
        expr: sum(
      - record: r
        expr: up
        for: 5m
      - alert: T
        expr: up
        annotations: {x: "{{ nope }}"}
  - name: g
    rules: []
`;
    assert.throws(
      () => parseRuleFile(text, 'f.yml'),
      (e: unknown) => {
        assert.ok(e instanceof RuleFileError);
        const p = e.problems;
        assert.match(
          p[0],
          /^f\.yml: 5:17: group "g", rule 1, "both": only one of 'record' and 'alert' must be set$/,
        );
        assert.match(
          p[1],
          /^f\.yml: 9:15: group "g", rule 2, "A": could not parse expression: 1:5: parse error: unclosed left parenthesis$/,
        );
        assert.match(p[2], /rule 3, "r": invalid field 'for' in recording rule/);
        assert.match(p[3], /rule 4, "T": .*function "nope" not defined/);
        assert.match(p[4], /groupname: "g" is repeated in the same file/);
        return true;
      },
    );
  });
});

describe('rule manager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharos-rules-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads globs relative to the config, refuses a broken reload, and keeps unchanged groups running', async () => {
    writeFileSync(
      join(dir, 'a.rules.yml'),
      'groups:\n  - name: a\n    rules:\n      - record: x\n        expr: vector(1)\n',
    );
    writeFileSync(
      join(dir, 'b.rules.yml'),
      'groups:\n  - name: b\n    rules:\n      - record: y\n        expr: vector(2)\n',
    );
    const store = new MemoryQueryable();
    const m = new RuleManager({
      query: engineRuleQuery(new Engine(), store),
      append: async () => undefined,
      notify: () => undefined,
      readForState: storageForStateQuery(store),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    const settings = {
      patterns: ['*.rules.yml'],
      baseDir: dir,
      evaluationInterval: 3600_000,
      queryOffset: 0,
      externalLabels: {},
      externalURL: '',
    };
    await m.update(settings);
    const [a, b] = m.groups();
    assert.deepEqual([a.name, b.name], ['a', 'b']);
    writeFileSync(
      join(dir, 'b.rules.yml'),
      'groups:\n  - name: b\n    rules:\n      - record: y\n        expr: vector(3)\n',
    );
    await m.update(settings);
    assert.equal(m.groups()[0], a, 'the unchanged group is the same instance');
    assert.notEqual(m.groups()[1], b, 'the changed group is replaced');
    writeFileSync(
      join(dir, 'b.rules.yml'),
      'groups:\n  - name: b\n    rules:\n      - record: y\n        expr: vector(\n',
    );
    await assert.rejects(
      m.update(settings),
      /b\.rules\.yml: 5:15: group "b", rule 1, "y": could not parse expression/,
    );
    assert.equal(m.groups().length, 2, 'the old rules stay in force');
    await m.stop();
  });
});

describe('rule files read as go-yaml reads them', () => {
  it('takes a quoted expression whose closing quote sits at its key, and merged labels', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('./testdata/go-yaml.rules.yml', import.meta.url), 'utf8');
    const [group] = parseRuleFile(text, 'go-yaml.rules.yml');
    assert.deepEqual(
      group.rules.map((r) => [r.expr, r.labels]),
      [
        ['sum by (instance) ( rate(node_cpu_seconds_total[5m]) ) > 1 ', { severity: 'page' }],
        ['up == 0', { team: 'infra', severity: 'page' }],
      ],
    );
  });
});
