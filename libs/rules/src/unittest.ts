import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { GoYamlError, parseDuration, parseGoYaml } from '@pharos/config';
import { compareLabels, labelsFrom, type Labels } from '@pharos/model';
import { Engine, parseExpr } from '@pharos/promql';
import { parseSeriesLine } from '@pharos/promql/promqltest';
import { formatFloat, goQuote } from '@pharos/template';
import { MemoryQueryable } from '@pharos/tsdb';
import { Group } from './group.js';
import { globFiles } from '@pharos/config';
import { parseRuleFile, RuleFileError, type RuleGroupConfig } from './rule-file.js';
import { AlertingRule, type RuleSample } from './rules.js';
import { engineRuleQuery } from './query.js';

/** What `promtool test rules` prints for one file, and whether it passed. */
export interface UnitTestReport {
  readonly stdout: string;
  readonly stderr: string;
  readonly ok: boolean;
}

interface AlertTest {
  evalTime: number;
  evalTimeText: string;
  alertname: string;
  expAlerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
}

interface ExprTest {
  expr: string;
  evalTime: number;
  evalTimeText: string;
  expSamples: Array<{ labels: string; value: number }>;
}

interface TestGroup {
  name: string;
  interval: number;
  inputSeries: Array<{ series: string; values: string }>;
  alertTests: AlertTest[];
  exprTests: ExprTest[];
  externalLabels: Record<string, string>;
  externalURL: string;
}

class UnitTestFileError extends Error {}

/** model.Duration.String(): years and weeks only when exact, as promtool prints eval times. */
export function modelDurationString(ms: number): string {
  if (ms === 0) return '0s';
  let r = '';
  let rest = ms;
  const unit = (u: string, mult: number, exact: boolean) => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      r += `${v}${u}`;
      rest -= v * mult;
    }
  };
  unit('y', 365 * 86_400_000, true);
  unit('w', 7 * 86_400_000, true);
  unit('d', 86_400_000, false);
  unit('h', 3_600_000, false);
  unit('m', 60_000, false);
  unit('s', 1000, false);
  unit('ms', 1, false);
  return r;
}

/** labels.Labels.String() as Prometheus 2 prints it. */
function labelsString(ls: Labels): string {
  return `{${ls.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ')}}`;
}

function indentLines(s: string, indent: string): string {
  return s.replace(/\n/g, `\n${indent}`);
}

interface LabelsAndAnnotations {
  labels: Labels;
  annotations: Labels;
}

function alertsString(list: readonly LabelsAndAnnotations[]): string {
  if (list.length === 0) return '[]';
  const one = (a: LabelsAndAnnotations) =>
    indentLines(`\nLabels:${labelsString(a.labels)}\nAnnotations:${labelsString(a.annotations)}`, '  ');
  let s = `[\n0:${one(list[0])}`;
  list.slice(1).forEach((a, i) => (s += `,\n${i + 1}:${one(a)}`));
  return `${s}\n]`;
}

function sortAlerts(list: LabelsAndAnnotations[]): LabelsAndAnnotations[] {
  return list.sort(
    (a, b) => compareLabels(a.labels, b.labels) || compareLabels(a.annotations, b.annotations),
  );
}

/** Reads the test file with promtool's field names; unknown fields are errors as in Go's strict YAML. */
function parseUnitTestFile(text: string): {
  ruleFiles: string[];
  evaluationInterval: number;
  groupEvalOrder: string[];
  tests: TestGroup[];
} {
  // Every scalar as its text, as Go reads string fields: `0x100` is a series notation, not 256.
  let parsed;
  try {
    parsed = parseGoYaml(text, { failsafe: true });
  } catch (e) {
    if (e instanceof GoYamlError) throw new UnitTestFileError(`yaml: ${e.message}`);
    throw e;
  }
  const { lines, root } = parsed;
  const unknown: string[] = [];
  const fields = (node: Node | null | undefined, type: string, known: string[]): Map<string, Node | null> => {
    const out = new Map<string, Node | null>();
    if (node == null || (isScalar(node) && node.value == null)) return out;
    if (!isMap(node))
      throw new UnitTestFileError(
        `yaml: unmarshal errors:\n  line ${lines.linePos(node.range?.[0] ?? 0).line}: cannot unmarshal into ${type}`,
      );
    for (const item of (node as YAMLMap).items as Array<Pair<Node, Node | null>>) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      if (!known.includes(key)) {
        unknown.push(
          `  line ${lines.linePos(item.key.range?.[0] ?? 0).line}: field ${key} not found in type ${type}`,
        );
        continue;
      }
      out.set(key, item.value);
    }
    return out;
  };
  const str = (n: Node | null | undefined): string =>
    n != null && isScalar(n) && n.value != null ? String(n.value) : '';
  const seq = (n: Node | null | undefined): Node[] => (n != null && isSeq(n) ? (n.items as Node[]) : []);
  const map = (n: Node | null | undefined): Record<string, string> => {
    const out: Record<string, string> = {};
    if (n != null && isMap(n))
      for (const it of n.items as Array<Pair<Node, Node>>) out[str(it.key)] = str(it.value);
    return out;
  };
  const dur = (n: Node | null | undefined, def: number): number => {
    const s = str(n);
    if (s === '') return def;
    try {
      return parseDuration(s);
    } catch (e) {
      throw new UnitTestFileError(`yaml: ${(e as Error).message}`);
    }
  };
  const top = fields(root, 'main.unitTestFile', [
    'rule_files',
    'evaluation_interval',
    'group_eval_order',
    'tests',
  ]);
  const evaluationInterval = dur(top.get('evaluation_interval'), 60_000);
  const tests = seq(top.get('tests')).map((tn): TestGroup => {
    const t = fields(tn, 'main.testGroup', [
      'interval',
      'input_series',
      'alert_rule_test',
      'promql_expr_test',
      'external_labels',
      'external_url',
      'name',
    ]);
    return {
      name: str(t.get('name')),
      interval: dur(t.get('interval'), evaluationInterval),
      inputSeries: seq(t.get('input_series')).map((sn) => {
        const s = fields(sn, 'main.series', ['series', 'values']);
        return { series: str(s.get('series')), values: str(s.get('values')) };
      }),
      alertTests: seq(t.get('alert_rule_test')).map((an) => {
        const a = fields(an, 'main.alertTestCase', ['eval_time', 'alertname', 'exp_alerts']);
        const evalTime = dur(a.get('eval_time'), 0);
        return {
          evalTime,
          evalTimeText: modelDurationString(evalTime),
          alertname: str(a.get('alertname')),
          expAlerts: seq(a.get('exp_alerts')).map((en) => {
            const e = fields(en, 'main.alert', ['exp_labels', 'exp_annotations']);
            return { labels: map(e.get('exp_labels')), annotations: map(e.get('exp_annotations')) };
          }),
        };
      }),
      exprTests: seq(t.get('promql_expr_test')).map((pn) => {
        const p = fields(pn, 'main.promqlTestCase', ['expr', 'eval_time', 'exp_samples']);
        const evalTime = dur(p.get('eval_time'), 0);
        return {
          expr: str(p.get('expr')),
          evalTime,
          evalTimeText: modelDurationString(evalTime),
          expSamples: seq(p.get('exp_samples')).map((sn) => {
            const s = fields(sn, 'main.parsedSample', ['labels', 'value']);
            return { labels: str(s.get('labels')), value: Number(str(s.get('value')) || '0') };
          }),
        };
      }),
      externalLabels: map(t.get('external_labels')),
      externalURL: str(t.get('external_url')),
    };
  });
  if (unknown.length > 0) throw new UnitTestFileError(`yaml: unmarshal errors:\n${unknown.join('\n')}`);
  return {
    ruleFiles: seq(top.get('rule_files')).map(str),
    evaluationInterval,
    groupEvalOrder: seq(top.get('group_eval_order')).map(str),
    tests,
  };
}

/** Parses `up{job="a"}` (what exp_samples' labels hold) into a label set. */
function parseMetric(text: string): Labels {
  if (text.trim() === '') return [];
  return parseSeriesLine(text.trim(), 0).labels;
}

async function runTestGroup(
  tg: TestGroup,
  ruleGroups: readonly RuleGroupConfig[],
  evaluationInterval: number,
  groupEvalOrder: readonly string[],
): Promise<string[]> {
  const store = new MemoryQueryable();
  for (const s of tg.inputSeries) {
    const line = parseSeriesLine(`${s.series} ${s.values}`, 0);
    const ts: number[] = [];
    const vs: number[] = [];
    line.values.forEach((v, i) => {
      if (v.kind !== 'float') return;
      ts.push(i * tg.interval);
      vs.push(v.v);
    });
    store.add(line.labels, ts, Float64Array.from(vs));
  }
  const engine = new Engine();
  const query = engineRuleQuery(engine, store);
  const append = async (samples: readonly RuleSample[]) => {
    for (const s of samples) store.add(s.labels, [s.t], Float64Array.of(s.v));
  };
  let configs = [...ruleGroups];
  if (groupEvalOrder.length > 0) {
    const rank = new Map(groupEvalOrder.map((n, i) => [n, i]));
    configs = configs
      .filter((g) => rank.has(g.name))
      .sort((a, b) => (rank.get(a.name) ?? 0) - (rank.get(b.name) ?? 0));
  } else configs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const groups = configs.map(
    (cfg) =>
      new Group(
        { ...cfg, interval: evaluationInterval },
        {
          query,
          append,
          notify: () => undefined,
          externalLabels: tg.externalLabels,
          externalURL: tg.externalURL,
          resendDelay: 60_000,
          defaultInterval: evaluationInterval,
          defaultQueryOffset: 0,
        },
        true,
      ),
  );
  const errs: string[] = [];
  const testName = tg.name !== '' ? `    name: ${tg.name},\n` : '';
  const alertTimes = [...new Set(tg.alertTests.map((a) => a.evalTime))].sort((a, b) => a - b);
  const maxt = Math.max(0, ...tg.alertTests.map((a) => a.evalTime), ...tg.exprTests.map((e) => e.evalTime));
  let curr = 0;
  for (let ts = 0; ts <= maxt; ts += evaluationInterval) {
    const evalErrs: string[] = [];
    for (const g of groups) {
      await g.eval(ts);
      for (const r of g.rules) {
        if (r.health === 'err')
          evalErrs.push(`    rule: ${r.name}, time: ${modelDurationString(ts)}, err: ${r.lastError}`);
      }
    }
    if (evalErrs.length > 0) return [...errs, ...evalErrs];
    // Alert tests at eval_time are checked against the evaluation at or just before it.
    while (curr < alertTimes.length && ts <= alertTimes[curr] && alertTimes[curr] < ts + evaluationInterval) {
      const t = alertTimes[curr];
      for (const tc of tg.alertTests.filter((a) => a.evalTime === t)) {
        const got: LabelsAndAnnotations[] = [];
        for (const g of groups) {
          for (const r of g.rules) {
            if (!(r instanceof AlertingRule) || r.name !== tc.alertname) continue;
            for (const a of r.activeAlerts()) {
              if (a.state === 'firing') got.push({ labels: a.labels, annotations: a.annotations });
            }
          }
        }
        const exp = tc.expAlerts.map((a) => ({
          labels: labelsFrom({ ...a.labels, alertname: tc.alertname }),
          annotations: labelsFrom(a.annotations),
        }));
        const gs = alertsString(sortAlerts(got));
        const es = alertsString(sortAlerts(exp));
        if (gs !== es) {
          errs.push(
            `${testName}    alertname: ${tc.alertname}, time: ${tc.evalTimeText}, \n        exp:${indentLines(es, '            ')}, \n        got:${indentLines(gs, '            ')}`,
          );
        }
      }
      curr++;
    }
  }
  const sampleString = (s: { labels: Labels; value: number }) =>
    `${labelsString(s.labels)} ${formatFloat(s.value, 'E', -1)}`;
  for (const tc of tg.exprTests) {
    let got: Array<{ labels: Labels; value: number }>;
    try {
      got = (await query(parseExpr(tc.expr), tc.evalTime)).map((s) => ({ labels: s.labels, value: s.v }));
    } catch (e) {
      errs.push(`    expr: ${goQuote(tc.expr)}, time: ${tc.evalTimeText}, err: ${(e as Error).message}`);
      continue;
    }
    let exp: Array<{ labels: Labels; value: number }>;
    try {
      exp = tc.expSamples.map((s) => ({ labels: parseMetric(s.labels), value: s.value }));
    } catch (e) {
      errs.push(`    expr: ${goQuote(tc.expr)}, time: ${tc.evalTimeText}, err: ${(e as Error).message}`);
      continue;
    }
    const byLabels = (a: { labels: Labels }, b: { labels: Labels }) => compareLabels(a.labels, b.labels);
    got.sort(byLabels);
    exp.sort(byLabels);
    const same =
      got.length === exp.length &&
      got.every((g, i) => compareLabels(g.labels, exp[i].labels) === 0 && g.value === exp[i].value);
    if (!same) {
      const str = (l: Array<{ labels: Labels; value: number }>) =>
        l.length === 0 ? 'nil' : l.map(sampleString).join(', ');
      errs.push(
        `    expr: ${goQuote(tc.expr)}, time: ${tc.evalTimeText},\n        exp: ${str(exp)}\n        got: ${str(got)}`,
      );
    }
  }
  return errs;
}

/** Runs one promtool unit test file: the same output on stdout and stderr, the same verdict. */
export async function runUnitTestFile(path: string): Promise<UnitTestReport> {
  // Prometheus 3's promtool heads each file so (2.x printed `Unit Testing:  <file>`).
  let stdout = `Processing test file: ${path}\n`;
  let stderr = '';
  const fail = (errs: readonly string[]): UnitTestReport => {
    stderr += '  FAILED:\n';
    for (const e of errs) {
      stderr += `${e}\n`;
      stdout += '\n';
    }
    stdout += '\n';
    return { stdout, stderr, ok: false };
  };
  let file: ReturnType<typeof parseUnitTestFile>;
  try {
    file = parseUnitTestFile(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail([(e as Error).message]);
  }
  const base = dirname(path);
  const ruleGroups: RuleGroupConfig[] = [];
  const loadErrs: string[] = [];
  for (const pattern of file.ruleFiles) {
    const full = isAbsolute(pattern) ? pattern : join(base, pattern);
    const files = globFiles(full);
    if (files.length === 0) stderr += `  WARNING: no file match pattern ${pattern}\n`;
    for (const f of files) {
      const shown = isAbsolute(full) ? f : relative(process.cwd(), f);
      try {
        ruleGroups.push(...parseRuleFile(readFileSync(f, 'utf8'), shown));
      } catch (e) {
        if (e instanceof RuleFileError) loadErrs.push(...e.problems);
        else loadErrs.push(`${shown}: ${(e as Error).message}`);
      }
    }
  }
  if (loadErrs.length > 0) return fail(loadErrs);
  const errs: string[] = [];
  for (const tg of file.tests) {
    errs.push(...(await runTestGroup(tg, ruleGroups, file.evaluationInterval, file.groupEvalOrder)));
  }
  if (errs.length > 0) return fail(errs);
  stdout += '  SUCCESS\n\n';
  return { stdout, stderr, ok: true };
}
