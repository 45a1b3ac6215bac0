import type { LabelMatcher } from '@pharos/model';
import type { DurationExpr } from './duration-expr.js';

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export interface PosRange {
  readonly start: number;
  readonly end: number;
}

/** `@` modifier: a fixed time in ms, or the query's start()/end(). */
export type AtModifier = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' | 'end' };

export interface NumberLiteral {
  readonly type: 'NumberLiteral';
  readonly value: number;
  readonly pos: PosRange;
}

export interface StringLiteral {
  readonly type: 'StringLiteral';
  readonly value: string;
  readonly pos: PosRange;
}

export interface VectorSelector {
  readonly type: 'VectorSelector';
  /** The metric name as written before the braces, '' when given only as a matcher. */
  readonly name: string;
  readonly matchers: readonly LabelMatcher[];
  offset: number;
  /** An offset that depends on the query (step(), range()): resolved before evaluation. */
  offsetExpr?: DurationExpr;
  at: AtModifier | null;
  /** The extended range modifiers of Prometheus 3: `anchored` (ranges) and `smoothed`. */
  extended?: 'anchored' | 'smoothed';
  readonly pos: PosRange;
}

export interface MatrixSelector {
  readonly type: 'MatrixSelector';
  readonly vector: VectorSelector;
  readonly range: number;
  readonly rangeExpr?: DurationExpr;
  readonly pos: PosRange;
}

export interface SubqueryExpr {
  readonly type: 'SubqueryExpr';
  readonly expr: Expr;
  readonly range: number;
  /** 0 means the default (the global evaluation interval). */
  readonly step: number;
  offset: number;
  readonly rangeExpr?: DurationExpr;
  readonly stepExpr?: DurationExpr;
  offsetExpr?: DurationExpr;
  at: AtModifier | null;
  readonly pos: PosRange;
}

export interface Call {
  readonly type: 'Call';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly pos: PosRange;
}

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'count_values'
  | 'quantile'
  | 'limitk'
  | 'limit_ratio';

export interface AggregateExpr {
  readonly type: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | null;
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly pos: PosRange;
}

export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | 'atan2'
  /** Native histogram trim operators (upper and lower); floats have no buckets to trim. */
  | '</'
  | '>/'
  | '=='
  | '!='
  | '>'
  | '<'
  | '>='
  | '<='
  | 'and'
  | 'or'
  | 'unless';

export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  readonly matchingLabels: readonly string[];
  /** true for on(...), false for ignoring(...) or no clause. */
  readonly on: boolean;
  readonly include: readonly string[];
}

/** Values standing in for a missing series on the left or right (fill modifiers). */
export interface FillModifier {
  readonly left?: number;
  readonly right?: number;
}

export interface BinaryExpr {
  readonly type: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly matching: VectorMatching | null;
  readonly returnBool: boolean;
  readonly fill?: FillModifier;
  readonly pos: PosRange;
  /**
   * Scalar when both sides are, else vector; known when the parser made the node, so the type
   * of a long chain is not found again by walking its left spine at every link.
   */
  readonly resultType?: 'scalar' | 'vector';
}

export interface UnaryExpr {
  readonly type: 'UnaryExpr';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly pos: PosRange;
}

export interface ParenExpr {
  readonly type: 'ParenExpr';
  readonly expr: Expr;
  readonly pos: PosRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr;

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
export const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);

/** The expressions directly inside `e`. */
export function children(e: Expr): readonly Expr[] {
  switch (e.type) {
    case 'MatrixSelector':
      return [e.vector];
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      return [e.expr];
    case 'Call':
      return e.args;
    case 'AggregateExpr':
      return e.param ? [e.param, e.expr] : [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    default:
      return [];
  }
}

/** Every vector selector in an expression, matrix and subquery bodies included. */
export function* vectorSelectors(e: Expr): Generator<VectorSelector> {
  if (e.type === 'VectorSelector') yield e;
  else for (const c of children(e)) yield* vectorSelectors(c);
}

/** How deeply `e` nests, counted without recursion so that any depth can be measured. */
export function exprDepth(e: Expr): number {
  let max = 0;
  const stack: Array<[Expr, number]> = [[e, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [x, d] = top;
    if (d > max) max = d;
    for (const c of children(x)) stack.push([c, d + 1]);
  }
  return max;
}
