// Prometheus 3's duration expressions (experimental there): arithmetic in ranges, subquery steps
// and offsets (`[5m + step()]`, `offset min_of(step(), 1s)`), evaluated in seconds.
import type { Expr } from './ast.js';

export type DurationExpr =
  | { readonly kind: 'num'; readonly seconds: number }
  | { readonly kind: 'call'; readonly name: DurationFunction; readonly args: readonly DurationExpr[] }
  | { readonly kind: 'neg'; readonly expr: DurationExpr }
  | {
      readonly kind: 'bin';
      readonly op: '+' | '-' | '*' | '/' | '%' | '^';
      readonly lhs: DurationExpr;
      readonly rhs: DurationExpr;
    };

export type DurationFunction = 'step' | 'range' | 'min_of' | 'max_of';

export const DURATION_FUNCTIONS: ReadonlyMap<DurationFunction, number> = new Map([
  ['step', 0],
  ['range', 0],
  ['min_of', 2],
  ['max_of', 2],
]);

/** What a duration expression may depend on: the query's step and range, in seconds. */
export interface DurationContext {
  readonly step: number;
  readonly range: number;
}

export function dependsOnQuery(d: DurationExpr): boolean {
  switch (d.kind) {
    case 'num':
      return false;
    case 'call':
      return d.name === 'step' || d.name === 'range' || d.args.some(dependsOnQuery);
    case 'neg':
      return dependsOnQuery(d.expr);
    case 'bin':
      return dependsOnQuery(d.lhs) || dependsOnQuery(d.rhs);
  }
}

/** The value in seconds. */
export function evalDuration(d: DurationExpr, ctx: DurationContext): number {
  switch (d.kind) {
    case 'num':
      return d.seconds;
    case 'neg':
      return -evalDuration(d.expr, ctx);
    case 'call': {
      if (d.name === 'step') return ctx.step;
      if (d.name === 'range') return ctx.range;
      const [a, b] = d.args.map((x) => evalDuration(x, ctx));
      return d.name === 'min_of' ? Math.min(a, b) : Math.max(a, b);
    }
    case 'bin': {
      const l = evalDuration(d.lhs, ctx);
      const r = evalDuration(d.rhs, ctx);
      switch (d.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          return l / r;
        case '%':
          return l % r;
        case '^':
          return l ** r;
      }
    }
  }
}

/** Seconds to the whole milliseconds the engine works in. */
export function durationMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

/**
 * Fills in the durations that depend on the query (step(), range()) for one evaluation. The
 * expression is copied only where something changes; one without such durations comes back as is.
 */
export function resolveDurations(e: Expr, ctx: DurationContext): Expr {
  const ms = (d: DurationExpr | undefined, fallback: number) =>
    d ? durationMs(evalDuration(d, ctx)) : fallback;
  switch (e.type) {
    case 'VectorSelector':
      return e.offsetExpr ? { ...e, offset: ms(e.offsetExpr, e.offset), offsetExpr: undefined } : e;
    case 'MatrixSelector': {
      const vector = resolveDurations(e.vector, ctx);
      if (!e.rangeExpr && vector === e.vector) return e;
      return {
        ...e,
        vector: vector as typeof e.vector,
        range: ms(e.rangeExpr, e.range),
        rangeExpr: undefined,
      };
    }
    case 'SubqueryExpr': {
      const inner = resolveDurations(e.expr, ctx);
      if (!e.rangeExpr && !e.stepExpr && !e.offsetExpr && inner === e.expr) return e;
      return {
        ...e,
        expr: inner,
        range: ms(e.rangeExpr, e.range),
        step: ms(e.stepExpr, e.step),
        offset: ms(e.offsetExpr, e.offset),
        rangeExpr: undefined,
        stepExpr: undefined,
        offsetExpr: undefined,
      };
    }
    case 'Call': {
      const args = e.args.map((a) => resolveDurations(a, ctx));
      return args.every((a, i) => a === e.args[i]) ? e : { ...e, args };
    }
    case 'AggregateExpr': {
      const inner = resolveDurations(e.expr, ctx);
      const param = e.param ? resolveDurations(e.param, ctx) : null;
      return inner === e.expr && param === e.param ? e : { ...e, expr: inner, param };
    }
    case 'BinaryExpr': {
      const lhs = resolveDurations(e.lhs, ctx);
      const rhs = resolveDurations(e.rhs, ctx);
      return lhs === e.lhs && rhs === e.rhs ? e : { ...e, lhs, rhs };
    }
    case 'UnaryExpr':
    case 'ParenExpr': {
      const inner = resolveDurations(e.expr, ctx);
      return inner === e.expr ? e : { ...e, expr: inner };
    }
    default:
      return e;
  }
}
