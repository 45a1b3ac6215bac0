// PromQL back to text, as Prometheus prints it: String() on one line, and the prettifier of
// /api/v1/format_query, which splits expressions longer than 100 characters over lines.
import { formatDuration } from '@pharos/config';
import { isLegacyLabelName, isLegacyMetricName, METRIC_NAME } from '@pharos/model';
import type { AtModifier, Expr, FillModifier, VectorMatching, VectorSelector } from './ast.js';
import type { DurationExpr } from './duration-expr.js';

const MAX_LINE = 100;

/** Go's strconv.Quote for the strings PromQL prints (ASCII-safe escapes, UTF-8 kept). */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

function duration(ms: number, expr?: DurationExpr): string {
  if (expr) return durationExprText(expr);
  return ms < 0 ? `-${formatDuration(-ms)}` : formatDuration(ms);
}

function durationExprText(d: DurationExpr): string {
  switch (d.kind) {
    case 'num':
      return d.seconds * 1000 === Math.round(d.seconds * 1000) && d.seconds > 0
        ? formatDuration(d.seconds * 1000)
        : formatNumber(d.seconds);
    case 'neg':
      return `-${durationExprText(d.expr)}`;
    case 'call':
      return `${d.name}(${d.args.map(durationExprText).join(', ')})`;
    case 'bin':
      return `(${durationExprText(d.lhs)} ${d.op} ${durationExprText(d.rhs)})`;
  }
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function modifiers(offset: number, at: AtModifier | null, offsetExpr?: DurationExpr): string {
  let s = '';
  if (at !== null) s += at.kind === 'time' ? ` @ ${(at.ms / 1000).toFixed(3)}` : ` @ ${at.kind}()`;
  if (offsetExpr) s += ` offset ${durationExprText(offsetExpr)}`;
  else if (offset !== 0) s += ` offset ${duration(offset)}`;
  return s;
}

function labelName(n: string): string {
  return isLegacyLabelName(n) ? n : quote(n);
}

function selector(v: VectorSelector): string {
  const ms = v.matchers.filter(
    (m) => !(v.name !== '' && m.name === METRIC_NAME && m.type === '=' && m.value === v.name),
  );
  const legacy = v.name === '' || isLegacyMetricName(v.name);
  const parts = ms.map((m) => `${labelName(m.name)}${m.type}${quote(m.value)}`);
  if (!legacy) return `{${[quote(v.name), ...parts].join(', ')}}`;
  return ms.length === 0 && v.name !== '' ? v.name : `${v.name}{${parts.join(', ')}}`;
}

function grouping(labels: readonly string[]): string {
  return `(${labels.map(labelName).join(', ')})`;
}

function fillText(fill: FillModifier | undefined): string {
  if (!fill) return '';
  const { left, right } = fill;
  if (left !== undefined && right !== undefined && Object.is(left, right))
    return ` fill(${formatNumber(left)})`;
  let s = '';
  if (left !== undefined) s += ` fill_left(${formatNumber(left)})`;
  if (right !== undefined) s += ` fill_right(${formatNumber(right)})`;
  return s;
}

function matching(op: string, m: VectorMatching | null, returnBool: boolean, fill?: FillModifier): string {
  let s = op;
  if (returnBool) s += ' bool';
  if (m !== null && (m.on || m.matchingLabels.length > 0)) {
    s += ` ${m.on ? 'on' : 'ignoring'} ${grouping(m.matchingLabels)}`;
    if (m.card === 'many-to-one' || m.card === 'one-to-many') {
      s += ` ${m.card === 'many-to-one' ? 'group_left' : 'group_right'} ${grouping(m.include)}`;
    }
  }
  return s + fillText(fill);
}

function aggregateHead(e: Extract<Expr, { type: 'AggregateExpr' }>): string {
  if (e.without) return `${e.op} without ${grouping(e.grouping)} `;
  if (e.grouping.length > 0) return `${e.op} by ${grouping(e.grouping)} `;
  return e.op;
}

/** One line, as Prometheus' Expr.String(). */
export function formatExpr(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      return formatNumber(e.value);
    case 'StringLiteral':
      return quote(e.value);
    case 'VectorSelector':
      return selector(e) + modifiers(e.offset, e.at, e.offsetExpr) + (e.extended ? ` ${e.extended}` : '');
    case 'MatrixSelector':
      return `${selector(e.vector)}[${duration(e.range, e.rangeExpr)}]${modifiers(e.vector.offset, e.vector.at, e.vector.offsetExpr)}${e.vector.extended ? ` ${e.vector.extended}` : ''}`;
    case 'SubqueryExpr':
      return `${formatExpr(e.expr)}[${duration(e.range, e.rangeExpr)}:${e.step > 0 || e.stepExpr ? duration(e.step, e.stepExpr) : ''}]${modifiers(e.offset, e.at, e.offsetExpr)}`;
    case 'Call':
      return `${e.func}(${e.args.map(formatExpr).join(', ')})`;
    case 'AggregateExpr': {
      const args = e.param ? `${formatExpr(e.param)}, ${formatExpr(e.expr)}` : formatExpr(e.expr);
      return `${aggregateHead(e)}(${args})`;
    }
    case 'BinaryExpr':
      return `${formatExpr(e.lhs)} ${matching(e.op, e.matching, e.returnBool, e.fill)} ${formatExpr(e.rhs)}`;
    case 'UnaryExpr':
      return `${e.op}${formatExpr(e.expr)}`;
    case 'ParenExpr':
      return `(${formatExpr(e.expr)})`;
  }
}

function indent(level: number): string {
  return '  '.repeat(level);
}

/** Prometheus' prettifier: what /api/v1/format_query returns. */
export function prettyExpr(e: Expr, level = 0): string {
  const flat = formatExpr(e);
  if (flat.length <= MAX_LINE) return indent(level) + flat;
  switch (e.type) {
    case 'AggregateExpr': {
      let s = `${indent(level)}${aggregateHead(e)}(\n`;
      if (e.param) s += `${prettyExpr(e.param, level + 1)},\n`;
      return `${s}${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    }
    case 'BinaryExpr':
      return `${prettyExpr(e.lhs, level + 1)}\n${indent(level)}${matching(e.op, e.matching, e.returnBool, e.fill)}\n${prettyExpr(e.rhs, level + 1)}`;
    case 'Call':
      return `${indent(level)}${e.func}(\n${e.args.map((a) => prettyExpr(a, level + 1)).join(',\n')}\n${indent(level)})`;
    case 'ParenExpr':
      return `${indent(level)}(\n${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    case 'SubqueryExpr':
      return `${prettyExpr(e.expr, level)}[${duration(e.range, e.rangeExpr)}:${e.step > 0 || e.stepExpr ? duration(e.step, e.stepExpr) : ''}]${modifiers(e.offset, e.at, e.offsetExpr)}`;
    case 'UnaryExpr':
      return `${indent(level)}${e.op}${prettyExpr(e.expr, level).trimStart()}`;
    default:
      return indent(level) + flat;
  }
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function atJson(at: AtModifier | null): { timestamp: Json; startOrEnd: Json } {
  if (at === null) return { timestamp: null, startOrEnd: null };
  return at.kind === 'time'
    ? { timestamp: at.ms, startOrEnd: null }
    : { timestamp: null, startOrEnd: at.kind };
}

function matchersJson(v: VectorSelector): Json {
  return v.matchers.map((m) => ({ type: m.type, name: m.name, value: m.value }));
}

/** The syntax tree as /api/v1/parse_query returns it (the shape of Prometheus' translateAST). */
export function exprToJson(e: Expr): Json {
  switch (e.type) {
    case 'NumberLiteral':
      return { type: 'numberLiteral', val: formatNumber(e.value) };
    case 'StringLiteral':
      return { type: 'stringLiteral', val: e.value };
    case 'VectorSelector':
      return {
        type: 'vectorSelector',
        name: e.name,
        matchers: matchersJson(e),
        offset: e.offset,
        ...atJson(e.at),
      };
    case 'MatrixSelector':
      return {
        type: 'matrixSelector',
        name: e.vector.name,
        range: e.range,
        offset: e.vector.offset,
        matchers: matchersJson(e.vector),
        ...atJson(e.vector.at),
      };
    case 'SubqueryExpr':
      return {
        type: 'subquery',
        expr: exprToJson(e.expr),
        range: e.range,
        offset: e.offset,
        step: e.step,
        ...atJson(e.at),
      };
    case 'Call':
      return { type: 'call', func: { name: e.func }, args: e.args.map(exprToJson) };
    case 'AggregateExpr':
      return {
        type: 'aggregation',
        op: e.op,
        expr: exprToJson(e.expr),
        param: e.param ? exprToJson(e.param) : null,
        grouping: [...e.grouping],
        without: e.without,
      };
    case 'BinaryExpr':
      return {
        type: 'binaryExpr',
        op: e.op,
        lhs: exprToJson(e.lhs),
        rhs: exprToJson(e.rhs),
        matching: e.matching
          ? {
              card: e.matching.card,
              labels: [...e.matching.matchingLabels],
              on: e.matching.on,
              include: [...e.matching.include],
            }
          : null,
        bool: e.returnBool,
      };
    case 'UnaryExpr':
      return { type: 'unaryExpr', op: e.op, expr: exprToJson(e.expr) };
    case 'ParenExpr':
      return { type: 'parenExpr', expr: exprToJson(e.expr) };
  }
}
