import { readFileSync } from 'node:fs';
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { ConfigError, Decoder } from '@pharos/config';
import { isValidLabelName, isValidMetricName } from '@pharos/model';
import { parseExpr, type Expr } from '@pharos/promql';
import { checkTemplate } from './template-data.js';

export interface RuleConfig {
  /** Set for a recording rule. */
  readonly record?: string;
  /** Set for an alerting rule. */
  readonly alert?: string;
  readonly expr: string;
  readonly parsed: Expr;
  readonly for: number;
  readonly keepFiringFor: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly line: number;
}

export interface RuleGroupConfig {
  readonly name: string;
  readonly file: string;
  /** 0: the global evaluation_interval. */
  readonly interval: number;
  readonly limit: number;
  /** undefined: the global rule_query_offset. */
  readonly queryOffset: number | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly rules: readonly RuleConfig[];
}

/** Every problem of one rule file, each with file and line, as `promtool check rules` lists them. */
export class RuleFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join('; '));
    this.name = 'RuleFileError';
  }
}

const GROUP_FIELDS = ['name', 'interval', 'limit', 'query_offset', 'labels', 'rules'];
const RULE_FIELDS = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];

/** A mapping of names to strings whose names are checked by `check` (labels, annotations). */
function stringMap(d: Decoder, node: Node | null, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (node == null || (isScalar(node) && node.value == null)) return out;
  if (!isMap(node)) d.fail(node, `${what} must be a mapping`);
  for (const item of (node as YAMLMap).items as Array<Pair<Node, Node>>) {
    const name = isScalar(item.key) ? String(item.key.value) : '';
    const v = item.value;
    if (v != null && (!isScalar(v) || typeof v.value === 'object'))
      d.fail(v, `${what} ${name} must be a string`);
    out[name] = v == null || !isScalar(v) || v.value == null ? '' : String(v.value);
  }
  return out;
}

/** Parses a rule file in Prometheus' format; throws RuleFileError listing every problem. */
export function parseRuleFile(text: string, file: string): RuleGroupConfig[] {
  let d: Decoder;
  try {
    d = new Decoder(file, text);
  } catch (e) {
    throw new RuleFileError(file, [(e as Error).message]);
  }
  const problems: string[] = [];
  const groups: RuleGroupConfig[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ConfigError) {
        problems.push(e.message);
        return undefined;
      }
      throw e;
    }
  };
  const top = attempt(() => d.fields(d.root, 'rulefmt.RuleGroups', ['groups']));
  if (!top) throw new RuleFileError(file, problems);
  const names = new Set<string>();
  for (const gnode of attempt(() => top.seq('groups')) ?? []) {
    const g = attempt(() => {
      const f = d.fields(gnode, 'rulefmt.RuleGroup', GROUP_FIELDS);
      const name = f.str('name', '');
      if (name === '') d.fail(gnode, 'Groupname must not be empty');
      if (names.has(name))
        d.fail(f.raw('name'), `groupname: ${JSON.stringify(name)} is repeated in the same file`);
      names.add(name);
      const interval = f.duration('interval', 0);
      const labels = stringMap(d, f.raw('labels'), 'label');
      for (const k of Object.keys(labels)) {
        if (!isValidLabelName(k) || k === '__name__') d.fail(f.raw('labels'), `invalid label name: ${k}`);
      }
      return {
        f,
        name,
        interval,
        limit: f.int('limit', 0),
        queryOffset: f.has('query_offset') ? f.duration('query_offset', 0) : undefined,
        labels,
      };
    });
    if (!g) continue;
    const rules: RuleConfig[] = [];
    const ruleNodes = attempt(() => g.f.seq('rules')) ?? [];
    ruleNodes.forEach((rnode, idx) => {
      const r = attempt(() => parseRule(d, rnode, g.name, idx + 1, file));
      if (r) {
        if ('problems' in r) problems.push(...r.problems);
        else rules.push(r);
      }
    });
    groups.push({
      name: g.name,
      file,
      interval: g.interval,
      limit: g.limit,
      queryOffset: g.queryOffset,
      labels: g.labels,
      rules,
    });
  }
  if (problems.length > 0) throw new RuleFileError(file, problems);
  return groups;
}

function parseRule(
  d: Decoder,
  node: Node,
  group: string,
  index: number,
  file: string,
): RuleConfig | { problems: string[] } {
  const f = d.fields(node, 'rulefmt.Rule', RULE_FIELDS);
  const line = d.lineOf(node);
  const record = f.str('record');
  const alert = f.str('alert');
  const name = record ?? alert ?? '';
  const problems: string[] = [];
  // Where upstream points: line:column of the field concerned (the expr, the name), else the rule.
  const at = (n: Node | null) => {
    const p = d.lines.linePos((n ?? node).range?.[0] ?? 0);
    return `${p.line}:${p.col}`;
  };
  const nameNode = f.raw('record') ?? f.raw('alert');
  const bad = (reason: string, where = at(nameNode)) =>
    problems.push(
      `${file}: ${where}: group ${JSON.stringify(group)}, rule ${index}, ${JSON.stringify(name)}: ${reason}`,
    );
  const expr = f.str('expr', '');
  let parsed: Expr | undefined;
  if (record !== undefined && alert !== undefined) bad("only one of 'record' and 'alert' must be set");
  else if (record === undefined && alert === undefined) bad("one of 'record' or 'alert' must be set");
  if (expr === '') bad("field 'expr' must be set in rule");
  else {
    try {
      parsed = parseExpr(expr);
    } catch (e) {
      bad(`could not parse expression: ${(e as Error).message}`, at(f.raw('expr')));
    }
  }
  const labels = stringMap(d, f.raw('labels'), 'label');
  const annotations = stringMap(d, f.raw('annotations'), 'annotation');
  if (record !== undefined) {
    if (f.has('annotations')) bad("invalid field 'annotations' in recording rule");
    if (f.has('for')) bad("invalid field 'for' in recording rule");
    if (f.has('keep_firing_for')) bad("invalid field 'keep_firing_for' in recording rule");
    if (!isValidMetricName(record)) bad(`invalid recording rule name: ${record}`);
  }
  for (const k of Object.keys(labels)) {
    if (!isValidLabelName(k) || k === '__name__') bad(`invalid label name: ${k}`);
  }
  for (const k of Object.keys(annotations)) {
    if (!isValidLabelName(k)) bad(`invalid annotation name: ${k}`);
  }
  if (alert !== undefined) {
    const check = (entries: Record<string, string>, what: string) => {
      for (const v of Object.values(entries)) {
        const err = checkTemplate(alert, v);
        if (err !== null) bad(`msg=${JSON.stringify(`invalid ${what} template`)}: ${err}`);
      }
    };
    check(labels, 'label');
    check(annotations, 'annotation');
  }

  if (problems.length > 0 || parsed === undefined) return { problems };
  return {
    record,
    alert,
    expr,
    parsed,
    for: f.duration('for', 0),
    keepFiringFor: f.duration('keep_firing_for', 0),
    labels,
    annotations,
    line,
  };
}

export function loadRuleFile(path: string): RuleGroupConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RuleFileError(path, [`${path}: ${(e as Error).message}`]);
  }
  return parseRuleFile(text, path);
}
