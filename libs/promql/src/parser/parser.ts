import { LabelMatcher, METRIC_NAME, type MatchType } from '@pharos/model';
import {
  COMPARISON_OPS,
  exprDepth,
  SET_OPS,
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  type FillModifier,
  type Expr,
  type ValueType,
  type VectorMatching,
  type VectorSelector,
} from './ast.js';
import { ParseError } from './errors.js';
import {
  dependsOnQuery,
  DURATION_FUNCTIONS,
  durationMs,
  evalDuration,
  type DurationExpr,
  type DurationFunction,
} from './duration-expr.js';
import { FUNCTIONS } from './functions.js';
import { lex, type Token } from './lexer.js';

const DURATION_PRECEDENCE: Readonly<Record<string, number>> = {
  '+': 1,
  '-': 1,
  '*': 2,
  '/': 2,
  '%': 2,
  '^': 3,
};

/** Durations that do not depend on the query are computed while parsing. */
const NO_QUERY = { step: 0, range: 0 };

const AGGREGATORS: ReadonlySet<string> = new Set<AggregateOp>([
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
]);
const PARAM_AGGREGATORS: ReadonlySet<string> = new Set([
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** Binding power of binary operators, lowest first, as Prometheus' grammar. */
function precedence(op: BinaryOp): number {
  switch (op) {
    case 'or':
      return 1;
    case 'and':
    case 'unless':
      return 2;
    case '==':
    case '!=':
    case '>':
    case '<':
    case '>=':
    case '<=':
      return 3;
    case '+':
    case '-':
      return 4;
    case '*':
    case '/':
    case '%':
    case 'atan2':
    case '</':
    case '>/':
      return 5;
    case '^':
      return 6;
  }
}

const UNARY_PRECEDENCE = 5.5; // tighter than * but looser than ^: -2^2 is -(2^2)

/**
 * Deeper expressions are refused: evaluating and printing walk the tree recursively, and no real
 * query comes near this, while a crafted one would otherwise exhaust the stack.
 */
export const MAX_EXPR_DEPTH = 1000;

export function parseExpr(input: string): Expr {
  let e: Expr;
  try {
    e = new Parser(input).parseTop();
  } catch (err) {
    if (err instanceof RangeError)
      throw ParseError.at(input, 0, `expression nests more than ${MAX_EXPR_DEPTH} levels deep`);
    throw err;
  }
  if (exprDepth(e) > MAX_EXPR_DEPTH)
    throw ParseError.at(input, 0, `expression nests more than ${MAX_EXPR_DEPTH} levels deep`);
  return e;
}

/** Parses a selector alone (the series API's match[]); returns its matchers. */
export function parseMetricSelector(input: string): LabelMatcher[] {
  const e = parseExpr(input);
  if (e.type !== 'VectorSelector')
    throw ParseError.at(input, 0, `expected a vector selector, got ${describe(e)}`);
  return [...e.matchers];
}

export function typeOf(e: Expr): ValueType {
  switch (e.type) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'Call':
      return FUNCTIONS.get(e.func)?.returnType ?? 'vector';
    case 'AggregateExpr':
      return 'vector';
    case 'BinaryExpr':
      return e.resultType ?? (typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector');
    case 'UnaryExpr':
    case 'ParenExpr':
      return typeOf(e.expr);
  }
}

function describe(e: Expr): string {
  const t = typeOf(e);
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}

function typeName(t: ValueType): string {
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}

class Parser {
  private readonly toks: Token[];
  private p = 0;

  constructor(private readonly input: string) {
    this.toks = lex(input);
  }

  parseTop(): Expr {
    if (this.peek().kind === 'EOF') this.fail(this.peek(), 'no expression found in input');
    const e = this.parseBinary(0);
    const t = this.peek();
    if (t.kind !== 'EOF') this.fail(t, `unexpected ${this.describeToken(t)}`);
    return e;
  }

  private emptySelectorAllowed = false;

  private peek(k = 0): Token {
    return this.toks[Math.min(this.p + k, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (this.p < this.toks.length - 1) this.p++;
    return t;
  }

  private fail(t: Token | number, reason: string): never {
    if (typeof t !== 'number' && t.kind === 'EOF' && t.text !== '')
      throw ParseError.at(this.input, t.start, t.text);
    throw ParseError.at(this.input, typeof t === 'number' ? t : t.start, reason);
  }

  private describeToken(t: Token): string {
    switch (t.kind) {
      case 'EOF':
        return 'end of input';
      case 'IDENT':
        return `identifier "${t.text}"`;
      case 'NUMBER':
        return `number "${t.text}"`;
      case 'DURATION':
        return `duration "${t.text}"`;
      case 'STRING':
        return `string ${JSON.stringify(t.text)}`;
      case 'OP':
        return `"${t.text}"`;
      default:
        return `"${t.text}"`;
    }
  }

  private expect(kind: Token['kind'], context: string): Token {
    const t = this.next();
    if (t.kind !== kind)
      this.fail(t, `unexpected ${this.describeToken(t)} in ${context}, expected "${kind}"`);
    return t;
  }

  private isKeyword(t: Token, kw: string): boolean {
    return t.kind === 'IDENT' && t.text.toLowerCase() === kw;
  }

  private binaryOp(t: Token): BinaryOp | null {
    if (
      t.kind === 'OP' &&
      ['+', '-', '*', '/', '%', '^', '==', '!=', '>', '<', '>=', '<=', '</', '>/'].includes(t.text)
    ) {
      return t.text as BinaryOp;
    }
    if (t.kind === 'IDENT') {
      const k = t.text.toLowerCase();
      if (k === 'and' || k === 'or' || k === 'unless' || k === 'atan2') return k;
    }
    return null;
  }

  private parseBinary(minPrec: number): Expr {
    let lhs = this.parseUnary();
    // A left-associative chain is built by this loop, not by recursion: count its links, so a
    // flat `1+1+…` of any length is refused as soon as it is too deep, in time linear in its size.
    let links = 0;
    for (;;) {
      const t = this.peek();
      const op = this.binaryOp(t);
      if (op === null) break;
      const prec = precedence(op);
      if (prec < minPrec) break;
      this.next();
      let returnBool = false;
      if (this.isKeyword(this.peek(), 'bool')) {
        if (!COMPARISON_OPS.has(op))
          this.fail(this.peek(), 'bool modifier can only be used on comparison operators');
        this.next();
        returnBool = true;
      }
      const matching = this.parseMatching(op);
      const fill = this.parseFill(op);
      const rhs = this.parseBinary(op === '^' ? prec : prec + 1);
      lhs = this.makeBinary(op, lhs, rhs, matching, returnBool, t, fill);
      if (++links > MAX_EXPR_DEPTH) this.fail(0, `expression nests more than ${MAX_EXPR_DEPTH} levels deep`);
    }
    return lhs;
  }

  /**
   * Prometheus 3's fill modifiers (experimental there): `fill(v)`, `fill_left(v)`,
   * `fill_right(v)` after the matching clause give a missing partner series a value. A word
   * followed by "(" here is always a modifier: no function has these names.
   */
  private parseFill(op: BinaryOp): FillModifier | undefined {
    let fill: { left?: number; right?: number } | undefined;
    for (;;) {
      const t = this.peek();
      const kw = t.kind === 'IDENT' ? t.text.toLowerCase() : '';
      if ((kw !== 'fill' && kw !== 'fill_left' && kw !== 'fill_right') || this.peek(1).kind !== '(')
        return fill;
      if (SET_OPS.has(op)) this.fail(t, `fill modifiers are not allowed with the "${op}" operator`);
      this.next();
      this.next();
      let sign = 1;
      let v = this.next();
      if (v.kind === 'OP' && (v.text === '-' || v.text === '+')) {
        if (v.text === '-') sign = -1;
        v = this.next();
      }
      let value: number;
      if (v.kind === 'NUMBER') value = v.num;
      else if (v.kind === 'IDENT' && v.text.toLowerCase() === 'inf') value = Infinity;
      else if (v.kind === 'IDENT' && v.text.toLowerCase() === 'nan') value = NaN;
      else return this.fail(v, `unexpected ${this.describeToken(v)} in ${kw} modifier, expected number`);
      this.expect(')', `${kw} modifier`);
      fill ??= {};
      if (kw !== 'fill_right') fill.left = sign * value;
      if (kw !== 'fill_left') fill.right = sign * value;
    }
  }

  private parseMatching(op: BinaryOp): VectorMatching | null {
    let on = false;
    let matchingLabels: string[] = [];
    let card: VectorMatching['card'] = SET_OPS.has(op) ? 'many-to-many' : 'one-to-one';
    let include: string[] = [];
    const t = this.peek();
    if (this.isKeyword(t, 'on') || this.isKeyword(t, 'ignoring')) {
      this.next();
      on = t.text.toLowerCase() === 'on';
      matchingLabels = this.parseLabelList();
      const g = this.peek();
      if (this.isKeyword(g, 'group_left') || this.isKeyword(g, 'group_right')) {
        this.next();
        if (SET_OPS.has(op)) this.fail(g, `no grouping allowed for "${op}" operation`);
        card = g.text.toLowerCase() === 'group_left' ? 'many-to-one' : 'one-to-many';
        if (this.peek().kind === '(') include = this.parseLabelList();
      }
    } else if (this.isKeyword(t, 'group_left') || this.isKeyword(t, 'group_right')) {
      this.fail(t, `unexpected <group_left/group_right> without on/ignoring`);
    }
    return { card, matchingLabels, on, include };
  }

  private makeBinary(
    op: BinaryOp,
    lhs: Expr,
    rhs: Expr,
    matching: VectorMatching | null,
    returnBool: boolean,
    opTok: Token,
    fill?: FillModifier,
  ): Expr {
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    const pos = { start: lhs.pos.start, end: rhs.pos.end };
    for (const [side, t] of [
      [lhs, lt],
      [rhs, rt],
    ] as const) {
      if (t !== 'scalar' && t !== 'vector') {
        this.fail(side.pos.start, `binary expression must contain only scalar and instant vector types`);
      }
    }
    const bothScalar = lt === 'scalar' && rt === 'scalar';
    if (COMPARISON_OPS.has(op) && bothScalar && !returnBool) {
      this.fail(opTok, 'comparisons between scalars must use BOOL modifier');
    }
    if (SET_OPS.has(op)) {
      if (lt === 'scalar' || rt === 'scalar')
        this.fail(opTok, `set operator "${op}" not allowed in binary scalar expression`);
    }
    // As upstream: against a scalar, on()/ignoring() with no labels (and any group modifier) is
    // accepted and dropped; only a list of labels to match on is an error.
    const bothVectors = lt === 'vector' && rt === 'vector';
    if (!bothVectors && matching !== null && matching.matchingLabels.length > 0) {
      this.fail(pos.start, 'vector matching only allowed between instant vectors');
    }
    if (matching && matching.card !== 'many-to-many' && matching.card !== 'one-to-one' && matching.on) {
      for (const l of matching.include) {
        if (matching.matchingLabels.includes(l))
          this.fail(opTok, `label "${l}" must not occur in ON and GROUP clause at once`);
      }
    }
    const m = bothVectors ? matching : null;
    if (fill && m === null)
      this.fail(pos.start, 'filling in missing series only allowed between instant vectors');
    const resultType = bothScalar ? 'scalar' : 'vector';
    return {
      type: 'BinaryExpr',
      op,
      lhs,
      rhs,
      matching: m,
      returnBool,
      pos,
      resultType,
      ...(fill ? { fill } : {}),
    };
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === 'OP' && (t.text === '-' || t.text === '+')) {
      this.next();
      const expr = this.parseBinary(UNARY_PRECEDENCE);
      const et = typeOf(expr);
      if (et !== 'scalar' && et !== 'vector')
        this.fail(
          t,
          `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(typeName(et))}`,
        );
      const pos = { start: t.start, end: expr.pos.end };
      if (expr.type === 'NumberLiteral') {
        return { type: 'NumberLiteral', value: t.text === '-' ? -expr.value : expr.value, pos };
      }
      return { type: 'UnaryExpr', op: t.text as '-' | '+', expr, pos };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.kind === '[') {
        e = this.parseRangeOrSubquery(e);
      } else if (this.isKeyword(t, 'offset')) {
        this.next();
        e = this.applyOffset(e, t);
      } else if (t.kind === '@') {
        this.next();
        e = this.applyAt(e, t);
      } else if (this.isKeyword(t, 'anchored') || this.isKeyword(t, 'smoothed')) {
        this.next();
        const kind = t.text.toLowerCase() as 'anchored' | 'smoothed';
        const target = e.type === 'MatrixSelector' ? e.vector : e.type === 'VectorSelector' ? e : null;
        if (target === null) this.fail(t, `${kind} modifier must follow a vector or range vector selector`);
        if (target.extended !== undefined)
          this.fail(t, `${kind} modifier may not be combined with ${target.extended}`);
        if (kind === 'anchored' && e.type !== 'MatrixSelector')
          this.fail(t, 'anchored modifier can only be used on range vector selectors');
        target.extended = kind;
      } else return e;
    }
  }

  private modifierTarget(
    e: Expr,
    t: Token,
    what: string,
  ): VectorSelector | Extract<Expr, { type: 'SubqueryExpr' }> {
    if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') return e;
    if (e.type === 'MatrixSelector') return e.vector;
    return this.fail(
      t,
      `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
    );
  }

  private applyOffset(e: Expr, t: Token): Expr {
    const target = this.modifierTarget(e, t, 'offset');
    // An offset takes a sign and one operand; operators after it apply to the whole selector
    // (`x offset 100 + 2` adds 2), parentheses make them part of the offset.
    const d = this.parseDurationAtom('offset');
    if (target.offset !== 0 || target.offsetExpr !== undefined)
      this.fail(t, 'offset may not be set multiple times');
    if (dependsOnQuery(d)) target.offsetExpr = d;
    else target.offset = durationMs(evalDuration(d, NO_QUERY));
    return e;
  }

  private applyAt(e: Expr, t: Token): Expr {
    const target = this.modifierTarget(e, t, '@');
    if (target.at !== null) this.fail(t, '@ <timestamp> may not be set multiple times');
    const n = this.next();
    let at: AtModifier;
    if (n.kind === 'IDENT' && (n.text === 'start' || n.text === 'end')) {
      this.expect('(', '@ modifier');
      this.expect(')', '@ modifier');
      at = { kind: n.text };
    } else {
      let sign = 1;
      let v = n;
      if (n.kind === 'OP' && (n.text === '-' || n.text === '+')) {
        if (n.text === '-') sign = -1;
        v = this.next();
      }
      // A duration counts as seconds since the epoch, as in Prometheus 3 (`@ 1m40s` is `@ 100`).
      if (v.kind !== 'NUMBER' && v.kind !== 'DURATION')
        this.fail(v, `unexpected ${this.describeToken(v)} in @, expected timestamp`);
      const secs = sign * (v.kind === 'DURATION' ? v.num / 1000 : v.num);
      if (!Number.isFinite(secs)) this.fail(v, 'timestamp out of bounds for @ modifier');
      at = { kind: 'time', ms: Math.round(secs * 1000) };
    }
    target.at = at;
    return e;
  }

  /** One operand of a duration: a signed number, duration, function call or parenthesised expression. */
  private parseDurationAtom(context: string): DurationExpr {
    const t = this.next();
    if (t.kind === 'OP' && (t.text === '-' || t.text === '+')) {
      const inner = this.parseDurationAtom(context);
      return t.text === '-' ? { kind: 'neg', expr: inner } : inner;
    }
    if (t.kind === 'DURATION') return { kind: 'num', seconds: t.num / 1000 };
    if (t.kind === 'NUMBER') return { kind: 'num', seconds: t.num };
    if (t.kind === '(') {
      const inner = this.parseDurationExpr(context, 0);
      this.expect(')', context);
      return inner;
    }
    if (t.kind === 'IDENT') {
      const name = t.text.toLowerCase() as DurationFunction;
      const arity = DURATION_FUNCTIONS.get(name);
      if (arity !== undefined && this.peek().kind === '(') {
        this.next();
        const args: DurationExpr[] = [];
        if (this.peek().kind !== ')') {
          args.push(this.parseDurationExpr(context, 0));
          while (this.peek().kind === ',') {
            this.next();
            args.push(this.parseDurationExpr(context, 0));
          }
        }
        this.expect(')', context);
        if (args.length !== arity)
          this.fail(t, `expected ${arity} argument(s) in call to "${name}", got ${args.length}`);
        return { kind: 'call', name, args };
      }
    }
    return this.fail(t, `unexpected ${this.describeToken(t)} in ${context}, expected duration`);
  }

  /** Duration arithmetic, as Prometheus 3 allows in ranges, subquery steps and offsets. */
  private parseDurationExpr(context: string, minPrec: number): DurationExpr {
    let lhs: DurationExpr;
    const t = this.peek();
    if (t.kind === 'OP' && (t.text === '-' || t.text === '+')) {
      // Unary minus binds looser than ^, as in PromQL: -2^2 is -(2^2).
      this.next();
      const inner = this.parseDurationExpr(context, DURATION_PRECEDENCE['^']);
      lhs = t.text === '-' ? { kind: 'neg', expr: inner } : inner;
    } else lhs = this.parseDurationAtom(context);
    for (;;) {
      const op = this.peek();
      const prec = op.kind === 'OP' ? DURATION_PRECEDENCE[op.text] : undefined;
      if (prec === undefined || prec < minPrec) return lhs;
      this.next();
      const rhs = this.parseDurationExpr(context, op.text === '^' ? prec : prec + 1);
      lhs = { kind: 'bin', op: op.text as '+', lhs, rhs };
    }
  }

  /** A range or step: its value in ms, and the expression when it depends on the query. */
  private parseDuration(context: string): { ms: number; expr?: DurationExpr } {
    const d = this.parseDurationExpr(context, 0);
    if (dependsOnQuery(d)) return { ms: 0, expr: d };
    return { ms: durationMs(evalDuration(d, NO_QUERY)) };
  }

  private parseRangeOrSubquery(e: Expr): Expr {
    const open = this.next();
    const range = this.parseDuration('range');
    if (this.peek().kind === ':') {
      this.next();
      let step: { ms: number; expr?: DurationExpr } = { ms: 0 };
      if (this.peek().kind !== ']') step = this.parseDuration('subquery step');
      const close = this.expect(']', 'subquery');
      const et = typeOf(e);
      if (et !== 'vector')
        this.fail(open, `subquery is only allowed on instant vector, got ${typeName(et)} instead`);
      if (!range.expr && range.ms <= 0) this.fail(open, 'subquery range must be positive');
      return {
        type: 'SubqueryExpr',
        expr: e,
        range: range.ms,
        step: step.ms,
        ...(range.expr ? { rangeExpr: range.expr } : {}),
        ...(step.expr ? { stepExpr: step.expr } : {}),
        offset: 0,
        at: null,
        pos: { start: e.pos.start, end: close.end },
      };
    }
    const close = this.expect(']', 'range');
    if (e.type !== 'VectorSelector') {
      this.fail(open, 'ranges only allowed for vector selectors');
    }
    if (e.offset !== 0 || e.offsetExpr !== undefined || e.at !== null)
      this.fail(open, 'no offset or @ modifier allowed before range');
    if (!range.expr && range.ms <= 0) this.fail(open, 'range must be positive');
    return {
      type: 'MatrixSelector',
      vector: e,
      range: range.ms,
      ...(range.expr ? { rangeExpr: range.expr } : {}),
      pos: { start: e.pos.start, end: close.end },
    };
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'NUMBER':
        this.next();
        return { type: 'NumberLiteral', value: t.num, pos: { start: t.start, end: t.end } };
      case 'DURATION':
        this.next();
        return { type: 'NumberLiteral', value: t.num / 1000, pos: { start: t.start, end: t.end } };
      case 'STRING':
        this.next();
        return { type: 'StringLiteral', value: t.text, pos: { start: t.start, end: t.end } };
      case '(': {
        this.next();
        const expr = this.parseBinary(0);
        const close = this.expect(')', 'paren expression');
        return { type: 'ParenExpr', expr, pos: { start: t.start, end: close.end } };
      }
      case '{':
        return this.parseSelector('', t);
      case 'IDENT':
        return this.parseIdentExpr(t);
      default:
        return this.fail(t, `unexpected ${this.describeToken(t)}`);
    }
  }

  private parseIdentExpr(t: Token): Expr {
    const lower = t.text.toLowerCase();
    const after = this.peek(1);
    if (
      AGGREGATORS.has(lower) &&
      (after.kind === '(' || this.isKeyword(after, 'by') || this.isKeyword(after, 'without'))
    ) {
      return this.parseAggregate(lower as AggregateOp);
    }
    if (lower === 'inf' || lower === 'nan') {
      this.next();
      return {
        type: 'NumberLiteral',
        value: lower === 'inf' ? Infinity : NaN,
        pos: { start: t.start, end: t.end },
      };
    }
    if (after.kind === '(') return this.parseCall(t);
    this.next();
    if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'].includes(lower)) {
      this.fail(t, `unexpected ${lower}`);
    }
    return this.parseSelector(t.text, t);
  }

  private parseCall(name: Token): Expr {
    const sig = FUNCTIONS.get(name.text);
    if (!sig) this.fail(name, `unknown function with name ${JSON.stringify(name.text)}`);
    this.next();
    this.expect('(', 'function call');
    const args: Expr[] = [];
    if (this.peek().kind !== ')') {
      for (;;) {
        // info()'s data-label selector may consist of matchers that all accept the empty string.
        this.emptySelectorAllowed = name.text === 'info' && args.length === 1;
        args.push(this.parseBinary(0));
        this.emptySelectorAllowed = false;
        if (this.peek().kind === ',') {
          this.next();
          continue;
        }
        break;
      }
    }
    const close = this.expect(')', 'function call');
    const nargs = sig.argTypes.length;
    if (sig.variadic === 0) {
      if (args.length !== nargs) {
        this.fail(
          name,
          `expected ${nargs} argument(s) in call to ${JSON.stringify(sig.name)}, got ${args.length}`,
        );
      }
    } else {
      const min = nargs - 1;
      if (args.length < min)
        this.fail(
          name,
          `expected at least ${min} argument(s) in call to ${JSON.stringify(sig.name)}, got ${args.length}`,
        );
      if (sig.variadic > 0 && args.length > min + sig.variadic) {
        this.fail(
          name,
          `expected at most ${min + sig.variadic} argument(s) in call to ${JSON.stringify(sig.name)}, got ${args.length}`,
        );
      }
    }
    args.forEach((a, i) => {
      const want = sig.argTypes[Math.min(i, nargs - 1)];
      this.checkType(a, want, `call to function ${JSON.stringify(sig.name)}`);
    });
    return { type: 'Call', func: sig.name, args, pos: { start: name.start, end: close.end } };
  }

  private checkType(e: Expr, want: ValueType, context: string): void {
    const got = typeOf(e);
    if (got !== want) {
      this.fail(e.pos.start, `expected type ${typeName(want)} in ${context}, got ${typeName(got)}`);
    }
  }

  private parseAggregate(op: AggregateOp): Expr {
    const opTok = this.next();
    let grouping: string[] = [];
    let without = false;
    let modifierSeen = false;
    const modifier = () => {
      const k = this.next();
      without = k.text.toLowerCase() === 'without';
      grouping = this.parseLabelList();
      modifierSeen = true;
    };
    if (this.isKeyword(this.peek(), 'by') || this.isKeyword(this.peek(), 'without')) modifier();
    this.expect('(', 'aggregation');
    let param: Expr | null = null;
    if (PARAM_AGGREGATORS.has(op)) {
      param = this.parseBinary(0);
      this.expect(',', 'aggregation');
    }
    if (this.peek().kind === ')') this.fail(this.peek(), 'no arguments for aggregate expression provided');
    const expr = this.parseBinary(0);
    if (this.peek().kind === ',') this.fail(this.peek(), `unexpected "," in aggregation`);
    const close = this.expect(')', 'aggregation');
    let end = close.end;
    if (this.isKeyword(this.peek(), 'by') || this.isKeyword(this.peek(), 'without')) {
      if (modifierSeen) this.fail(this.peek(), 'aggregation modifier may only be given once');
      modifier();
      end = this.toks[this.p - 1].end;
    }
    this.checkType(expr, 'vector', 'aggregation expression');
    if (param !== null) {
      if (op === 'count_values') this.checkType(param, 'string', 'aggregation parameter');
      else this.checkType(param, 'scalar', 'aggregation parameter');
    }
    return { type: 'AggregateExpr', op, expr, param, grouping, without, pos: { start: opTok.start, end } };
  }

  /** ( label, "quoted label", ... ) */
  private parseLabelList(): string[] {
    this.expect('(', 'grouping opts');
    const out: string[] = [];
    while (this.peek().kind !== ')') {
      const t = this.next();
      if (t.kind === 'IDENT' && !t.text.includes(':')) out.push(t.text);
      else if (t.kind === 'STRING') out.push(t.text);
      else this.fail(t, `unexpected ${this.describeToken(t)} in grouping opts, expected label`);
      if (this.peek().kind === ',') this.next();
      else if (this.peek().kind !== ')')
        this.fail(
          this.peek(),
          `unexpected ${this.describeToken(this.peek())} in grouping opts, expected "," or ")"`,
        );
    }
    this.next();
    return out;
  }

  private parseSelector(name: string, start: Token): VectorSelector {
    const matchers: LabelMatcher[] = [];
    let end = start.end;
    let quotedName = '';
    if (this.peek().kind === '{') {
      this.next();
      while (this.peek().kind !== '}') {
        const t = this.next();
        let label: string;
        if (t.kind === 'IDENT' && !t.text.includes(':')) label = t.text;
        else if (t.kind === 'STRING') label = t.text;
        else return this.fail(t, `unexpected ${this.describeToken(t)} in label matching, expected label`);
        const op = this.peek();
        if (t.kind === 'STRING' && (op.kind === ',' || op.kind === '}')) {
          // {"utf8.metric.name", ...}
          if (name !== '' || quotedName !== '') this.fail(t, 'metric name must not be set twice');
          quotedName = label;
        } else {
          if (op.kind !== 'OP' || !['=', '!=', '=~', '!~'].includes(op.text)) {
            this.fail(
              op,
              `unexpected ${this.describeToken(op)} in label matching, expected label matching operator`,
            );
          }
          this.next();
          const v = this.next();
          if (v.kind !== 'STRING')
            this.fail(v, `unexpected ${this.describeToken(v)} in label matching, expected string`);
          try {
            matchers.push(new LabelMatcher(op.text as MatchType, label, v.text));
          } catch (e) {
            this.fail(v, `invalid regular expression in matcher: ${(e as Error).message}`);
          }
        }
        if (this.peek().kind === ',') this.next();
        else if (this.peek().kind !== '}')
          this.fail(
            this.peek(),
            `unexpected ${this.describeToken(this.peek())} in label matching, expected "," or "}"`,
          );
      }
      end = this.next().end;
    }
    const metric = name || quotedName;
    if (metric !== '') {
      if (matchers.some((m) => m.name === METRIC_NAME)) {
        this.fail(
          start,
          `metric name must not be set twice: ${JSON.stringify(metric)} or ${JSON.stringify(matchers.find((m) => m.name === METRIC_NAME)?.value)}`,
        );
      }
      matchers.unshift(new LabelMatcher('=', METRIC_NAME, metric));
    }
    if (!this.emptySelectorAllowed && !matchers.some((m) => !m.matchesEmpty())) {
      this.fail(start, 'vector selector must contain at least one non-empty matcher');
    }
    return {
      type: 'VectorSelector',
      name: metric,
      matchers,
      offset: 0,
      at: null,
      pos: { start: start.start, end },
    };
  }
}
