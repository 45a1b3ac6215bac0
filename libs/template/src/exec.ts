import {
  argString,
  commandString,
  lineOf,
  parseTemplates,
  type Arg,
  type Command,
  type ControlNode,
  type Node,
  type Pipe,
  type Tree,
} from './parse.js';
import { goQuote, sprint, sprintf, sprintln } from './printf.js';
import {
  basicKind,
  formatValue,
  GoHTML,
  GoMap,
  GoSlice,
  GoStruct,
  isTrue,
  typeName,
  type GoValue,
} from './values.js';

/** A parameter's Go type: a basic kind, anything, or a named type with its own test. */
export type ParamType =
  'any' | 'string' | 'float64' | 'int' | 'bool' | { name: string; accepts(v: GoValue): boolean };

export interface GoFunc {
  readonly params: readonly ParamType[];
  /** The type of the arguments after `params`, for variadic functions. */
  readonly variadic?: ParamType;
  /** Throwing is how a Go function returns an error: "error calling NAME: message". */
  readonly fn: (...args: GoValue[]) => GoValue | Promise<GoValue>;
}

export type FuncMap = ReadonlyMap<string, GoFunc>;

export type MissingKey = 'default' | 'zero' | 'error';

/** An execution error in Go's words: `template: NAME:LINE:COL: executing "NAME" at <ctx>: reason`. */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

class BreakSignal {}
class ContinueSignal {}

const MAX_EXEC_DEPTH = 1000;

function paramName(p: ParamType): string {
  return typeof p === 'string' ? (p === 'any' ? 'interface {}' : p) : p.name;
}

function accepts(p: ParamType, v: GoValue): boolean {
  switch (p) {
    case 'any':
      return true;
    case 'string':
      return typeof v === 'string';
    case 'float64':
      return typeof v === 'number';
    case 'int':
      return typeof v === 'bigint';
    case 'bool':
      return typeof v === 'boolean';
    default:
      return p.accepts(v);
  }
}

function compareBasic(name: string, a: GoValue, b: GoValue): number {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'other' || kb === 'other') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  if (ka === 'bool') {
    if (name !== 'eq' && name !== 'ne') throw new Error('invalid type for comparison');
    return a === b ? 0 : 1;
  }
  const x = a instanceof GoHTML ? a.html : (a as string | number | bigint);
  const y = b instanceof GoHTML ? b.html : (b as string | number | bigint);
  return x < y ? -1 : x > y ? 1 : 0;
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) =>
    c === '&'
      ? '&amp;'
      : c === "'"
        ? '&#39;'
        : c === '<'
          ? '&lt;'
          : c === '>'
            ? '&gt;'
            : c === '"'
              ? '&#34;'
              : '\uFFFD',
  );
}

function jsEscape(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what js escapes
  return s.replace(/[\\'"<>&=\n\r\t]|[\u0000-\u001f]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case "'":
        return "\\'";
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    }
  });
}

function evalArgsText(args: readonly GoValue[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

function indexOne(item: GoValue, key: GoValue): GoValue {
  if (item instanceof GoMap) {
    if (typeof key !== 'string') throw new Error(`value has type ${typeName(key)}; should be string`);
    return item.entries.has(key) ? item.entries.get(key) : item.zero;
  }
  if (item instanceof GoSlice || typeof item === 'string') {
    if (typeof key !== 'bigint') throw new Error(`cannot index slice/array with type ${typeName(key)}`);
    const n = item instanceof GoSlice ? item.items.length : Buffer.byteLength(item);
    if (key < 0n || key >= BigInt(n)) throw new Error(`index out of range: ${key}`);
    return item instanceof GoSlice ? item.items[Number(key)] : BigInt(Buffer.from(item)[Number(key)]);
  }
  if (item === null || item === undefined) throw new Error('index of untyped nil');
  throw new Error(`can't index item of type ${typeName(item)}`);
}

/** text/template's predefined functions. `and` and `or` are evaluated lazily by the executor. */
export const BUILTINS: FuncMap = new Map<string, GoFunc>([
  ['and', { params: ['any'], variadic: 'any', fn: () => null }],
  ['or', { params: ['any'], variadic: 'any', fn: () => null }],
  ['not', { params: ['any'], fn: (a) => !isTrue(a) }],
  [
    'len',
    {
      params: ['any'],
      fn: (a) => {
        if (typeof a === 'string') return BigInt(Buffer.byteLength(a));
        if (a instanceof GoSlice) return BigInt(a.items.length);
        if (a instanceof GoMap) return BigInt(a.entries.size);
        throw new Error(`len of type ${typeName(a)}`);
      },
    },
  ],
  [
    'index',
    { params: ['any'], variadic: 'any', fn: (item, ...keys) => keys.reduce<GoValue>(indexOne, item) },
  ],
  [
    'slice',
    {
      params: ['any'],
      variadic: 'any',
      fn: (item, ...idx) => {
        const n = idx.map((x) => {
          if (typeof x !== 'bigint') throw new Error(`cannot index slice/array with type ${typeName(x)}`);
          return Number(x);
        });
        if (typeof item === 'string') return item.slice(n[0] ?? 0, n[1]);
        if (item instanceof GoSlice)
          return new GoSlice(item.items.slice(n[0] ?? 0, n[1]), item.typeName, item.methods);
        throw new Error(`can't slice item of type ${typeName(item)}`);
      },
    },
  ],
  ['print', { params: [], variadic: 'any', fn: (...a) => sprint(a) }],
  ['printf', { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(f as string, a) }],
  ['println', { params: [], variadic: 'any', fn: (...a) => sprintln(a) }],
  ['html', { params: [], variadic: 'any', fn: (...a) => htmlEscape(evalArgsText(a)) }],
  ['js', { params: [], variadic: 'any', fn: (...a) => jsEscape(evalArgsText(a)) }],
  [
    'urlquery',
    {
      params: [],
      variadic: 'any',
      fn: (...a) =>
        encodeURIComponent(evalArgsText(a))
          .replace(/%20/g, '+')
          .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    },
  ],
  [
    'eq',
    {
      params: ['any'],
      variadic: 'any',
      fn: (a, ...rest) => {
        if (rest.length === 0) throw new Error('missing argument for comparison');
        return rest.some((b) => compareBasic('eq', a, b) === 0);
      },
    },
  ],
  ['ne', { params: ['any', 'any'], fn: (a, b) => compareBasic('ne', a, b) !== 0 }],
  ['lt', { params: ['any', 'any'], fn: (a, b) => compareBasic('lt', a, b) < 0 }],
  ['le', { params: ['any', 'any'], fn: (a, b) => compareBasic('le', a, b) <= 0 }],
  ['gt', { params: ['any', 'any'], fn: (a, b) => compareBasic('gt', a, b) > 0 }],
  ['ge', { params: ['any', 'any'], fn: (a, b) => compareBasic('ge', a, b) >= 0 }],
]);

interface Variable {
  readonly name: string;
  value: GoValue;
}

/** A parsed set of templates with their functions, ready to execute against data. */
export class Template {
  private constructor(
    readonly name: string,
    private readonly trees: Map<string, Tree>,
    private readonly funcs: FuncMap,
    private readonly missingKey: MissingKey,
    /** html/template's place: action output is HTML-escaped unless it is safeHtml's GoHTML. */
    readonly escapeHTML: boolean,
  ) {}

  /** Parses `text`; throws TemplateParseError with Go's message on a syntax error. */
  static parse(
    name: string,
    text: string,
    funcs: FuncMap = new Map(),
    missingKey: MissingKey = 'default',
    escapeHTML = false,
  ): Template {
    const all = new Map<string, GoFunc>([...BUILTINS, ...funcs]);
    return new Template(name, parseTemplates(name, text, all), all, missingKey, escapeHTML);
  }

  /** Adds the templates defined in `text` (as template.ParseFiles does with more files). */
  addParse(name: string, text: string): void {
    for (const [k, v] of parseTemplates(name, text, this.funcs)) this.trees.set(k, v);
  }

  has(name: string): boolean {
    return this.trees.has(name);
  }

  async execute(data: GoValue, name = this.name): Promise<string> {
    const tree = this.trees.get(name);
    if (!tree)
      throw new TemplateExecError(
        `template: no template ${goQuote(name)} associated with template ${goQuote(this.name)}`,
      );
    const st = new State(this, tree, this.funcs, this.missingKey, 0);
    st.vars.push({ name: '$', value: data });
    await st.walkList(data, tree.root);
    return st.out;
  }

  /** For {{template}}: the tree of a named template. */
  tree(name: string): Tree | undefined {
    return this.trees.get(name);
  }
}

class State {
  out = '';
  readonly vars: Variable[] = [];
  private node: { pos: number; ctx: string } | null = null;

  constructor(
    private readonly tmpl: Template,
    private readonly tree: Tree,
    private readonly funcs: FuncMap,
    private readonly missingKey: MissingKey,
    private readonly depth: number,
  ) {}

  private at(pos: number, ctx: string): void {
    this.node = { pos, ctx };
  }

  private fail(reason: string): never {
    const text = this.tree.text;
    const pos = this.node?.pos ?? 0;
    const nl = text.lastIndexOf('\n', pos - 1);
    const col = nl < 0 ? pos : pos - (nl + 1);
    const where = `${this.tmpl.name}:${lineOf(text, pos)}:${col}`;
    const ctx = this.node ? ` at <${this.node.ctx}>` : '';
    throw new TemplateExecError(`template: ${where}: executing ${goQuote(this.tree.name)}${ctx}: ${reason}`);
  }

  async walkList(dot: GoValue, list: readonly Node[]): Promise<void> {
    for (const n of list) await this.walk(dot, n);
  }

  private async walk(dot: GoValue, n: Node): Promise<void> {
    switch (n.type) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = await this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) {
          this.out +=
            this.tmpl.escapeHTML && !(v instanceof GoHTML) ? htmlEscape(formatValue(v)) : formatValue(v);
        }
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = await this.evalPipeline(dot, n.pipe);
        if (isTrue(v)) await this.walkList(n.type === 'with' ? v : dot, n.list);
        else if (n.elseList) await this.walkList(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        await this.walkRange(dot, n);
        return;
      case 'template': {
        const t = this.tmpl.tree(n.name);
        this.at(n.pos, `template ${goQuote(n.name)}`);
        if (!t)
          this.fail(
            `template: no template ${goQuote(n.name)} associated with template ${goQuote(this.tmpl.name)}`,
          );
        if (this.depth >= MAX_EXEC_DEPTH) this.fail(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
        const newDot = n.pipe ? await this.evalPipeline(dot, n.pipe) : null;
        const st = new State(this.tmpl, t, this.funcs, this.missingKey, this.depth + 1);
        st.vars.push({ name: '$', value: newDot });
        await st.walkList(newDot, t.root);
        this.out += st.out;
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private async walkRange(dot: GoValue, n: ControlNode): Promise<void> {
    const mark = this.vars.length;
    const v = await this.evalPipeline(dot, n.pipe);
    // The pipeline's declarations are the loop variables, set per element below.
    this.vars.length = mark;
    const decl = n.pipe.decl;
    const one = async (key: GoValue, elem: GoValue): Promise<boolean> => {
      if (decl.length === 1) this.vars.push({ name: decl[0], value: elem });
      else if (decl.length === 2)
        this.vars.push({ name: decl[0], value: key }, { name: decl[1], value: elem });
      try {
        await this.walkList(elem, n.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.vars.length = mark;
      }
      return true;
    };
    let ran = false;
    if (v instanceof GoSlice) {
      for (let i = 0; i < v.items.length; i++) {
        ran = true;
        if (!(await one(BigInt(i), v.items[i]))) break;
      }
    } else if (v instanceof GoMap) {
      for (const k of [...v.entries.keys()].sort()) {
        ran = true;
        if (!(await one(k, v.entries.get(k)))) break;
      }
    } else if (typeof v === 'bigint') {
      for (let i = 0n; i < v; i++) {
        ran = true;
        if (!(await one(i, i))) break;
      }
    } else if (v !== null && v !== undefined) {
      this.at(n.pos, `range ${n.pipe.cmds.map(commandString).join(' | ')}`);
      this.fail(`range can't iterate over ${formatValue(v)}`);
    }
    if (!ran && n.elseList) await this.walkList(dot, n.elseList);
  }

  private async evalPipeline(dot: GoValue, pipe: Pipe): Promise<GoValue> {
    let v: GoValue | typeof NO_FINAL = NO_FINAL;
    for (const c of pipe.cmds) v = await this.evalCommand(dot, c, v);
    const value = v === NO_FINAL ? undefined : v;
    if (pipe.isAssign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i].name === pipe.decl[0]) {
          this.vars[i].value = value;
          break;
        }
      }
    } else for (const d of pipe.decl) this.vars.push({ name: d, value });
    return value;
  }

  private async evalCommand(dot: GoValue, cmd: Command, final: GoValue | typeof NO_FINAL): Promise<GoValue> {
    const first = cmd.args[0];
    const rest = cmd.args.slice(1);
    switch (first.type) {
      case 'field':
        return await this.evalFieldChain(dot, dot, first, first.idents, rest, final);
      case 'variable': {
        const v = this.variable(first.pos, first.idents[0]);
        if (first.idents.length === 1) {
          this.notAFunction(first, rest, final);
          return v;
        }
        return await this.evalFieldChain(dot, v, first, first.idents.slice(1), rest, final);
      }
      case 'chain': {
        const base = await this.evalArgValue(dot, first.node);
        return await this.evalFieldChain(dot, base, first, first.fields, rest, final);
      }
      case 'identifier':
        return await this.evalFunction(dot, first.name, cmd, rest, final);
      case 'pipe':
        this.notAFunction(first, rest, final);
        return await this.evalPipeline(dot, first.pipe);
      case 'dot':
        this.notAFunction(first, rest, final);
        return dot;
      default:
        this.notAFunction(first, rest, final);
        return this.literal(first);
    }
  }

  private notAFunction(a: Arg, rest: readonly Arg[], final: GoValue | typeof NO_FINAL): void {
    if (rest.length > 0 || final !== NO_FINAL) {
      this.at(a.pos, argString(a));
      this.fail(`can't give argument to non-function ${argString(a)}`);
    }
  }

  private literal(a: Arg): GoValue {
    switch (a.type) {
      case 'nil':
        return null;
      case 'bool':
        return a.value;
      case 'number':
        return a.value;
      case 'string':
        return a.value;
      default:
        return undefined;
    }
  }

  private variable(pos: number, name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.at(pos, name);
    this.fail(`undefined variable: ${name}`);
  }

  /** Evaluates .A.B.C on `receiver`; the last one gets the command's arguments. */
  private async evalFieldChain(
    dot: GoValue,
    receiver: GoValue,
    node: Arg,
    idents: readonly string[],
    args: readonly Arg[],
    final: GoValue | typeof NO_FINAL,
  ): Promise<GoValue> {
    let v = receiver;
    for (let i = 0; i < idents.length; i++) {
      const last = i === idents.length - 1;
      v = await this.evalField(dot, idents[i], node, last ? args : [], last ? final : NO_FINAL, v);
    }
    return v;
  }

  private async evalField(
    dot: GoValue,
    name: string,
    node: Arg,
    args: readonly Arg[],
    final: GoValue | typeof NO_FINAL,
    receiver: GoValue,
  ): Promise<GoValue> {
    this.at(node.pos, argString(node));
    if (receiver === undefined) {
      if (this.missingKey === 'error') this.fail(`nil data; no entry for key ${goQuote(name)}`);
      return undefined;
    }
    const hasArgs = args.length > 0 || final !== NO_FINAL;
    const methods =
      receiver instanceof GoMap || receiver instanceof GoSlice || receiver instanceof GoStruct
        ? receiver.methods
        : {};
    const method = Object.prototype.hasOwnProperty.call(methods, name) ? methods[name] : undefined;
    if (method) {
      const vals: GoValue[] = [];
      for (const a of args) vals.push(await this.evalArgValue(dot, a));
      if (final !== NO_FINAL) vals.push(final);
      try {
        return await method(...vals);
      } catch (e) {
        this.at(node.pos, argString(node));
        return this.fail(`error calling ${name}: ${(e as Error).message}`);
      }
    }
    if (receiver instanceof GoStruct && Object.prototype.hasOwnProperty.call(receiver.fields, name)) {
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return receiver.fields[name];
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      if (receiver.entries.has(name)) return receiver.entries.get(name);
      if (this.missingKey === 'error') this.fail(`map has no entry for key ${goQuote(name)}`);
      return this.missingKey === 'zero' ? receiver.zero : undefined;
    }
    if (receiver === null) this.fail(`nil pointer evaluating ${typeName(receiver)}.${name}`);
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private async evalFunction(
    dot: GoValue,
    name: string,
    cmd: Command,
    args: readonly Arg[],
    final: GoValue | typeof NO_FINAL,
  ): Promise<GoValue> {
    const f = this.funcs.get(name);
    this.at(cmd.args[0].pos, name);
    if (!f) this.fail(`"${name}" is not a defined function`);
    const nargs = args.length + (final !== NO_FINAL ? 1 : 0);
    if (f.variadic !== undefined ? nargs < f.params.length : nargs !== f.params.length) {
      const want = f.variadic !== undefined ? `at least ${f.params.length}` : String(f.params.length);
      this.fail(`wrong number of args for ${name}: want ${want} got ${nargs}`);
    }
    if (name === 'and' || name === 'or') {
      // Short-circuit: the first falsy (and) or truthy (or) argument, without evaluating the rest.
      let v: GoValue = null;
      for (const a of args) {
        v = await this.evalArgValue(dot, a);
        if (name === 'and' ? !isTrue(v) : isTrue(v)) return v;
      }
      if (final !== NO_FINAL) v = final;
      return v;
    }
    const vals: GoValue[] = [];
    for (let i = 0; i < args.length; i++)
      vals.push(await this.evalArg(dot, args[i], f.params[i] ?? f.variadic ?? 'any'));
    if (final !== NO_FINAL) {
      const t = f.params[args.length] ?? f.variadic ?? 'any';
      if (!accepts(t, final)) {
        this.at(cmd.pos, commandString(cmd));
        this.fail(`wrong type for value; expected ${paramName(t)}; got ${typeName(final)}`);
      }
      vals.push(final);
    }
    try {
      return await f.fn(...vals);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      this.at(cmd.pos, commandString(cmd));
      return this.fail(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  /** An argument for a parameter of type `t`: literals convert as Go's constants do. */
  private async evalArg(dot: GoValue, a: Arg, t: ParamType): Promise<GoValue> {
    this.at(a.pos, argString(a));
    if (a.type === 'number' || a.type === 'string' || a.type === 'bool' || a.type === 'nil') {
      if (t === 'any') return this.literal(a);
      const found = argString(a);
      switch (t) {
        case 'float64':
          if (a.type !== 'number') this.fail(`expected float; found ${found}`);
          return Number(a.value);
        case 'int':
          if (a.type !== 'number' || typeof a.value !== 'bigint')
            this.fail(`expected integer; found ${found}`);
          return a.value;
        case 'string':
          if (a.type !== 'string') this.fail(`expected string; found ${found}`);
          return a.value;
        case 'bool':
          if (a.type !== 'bool') this.fail(`expected bool; found ${found}`);
          return a.value;
        default: {
          const v = this.literal(a);
          if (!t.accepts(v)) this.fail(`wrong type for value; expected ${t.name}; got ${typeName(v)}`);
          return v;
        }
      }
    }
    const v = await this.evalArgValue(dot, a);
    if (!accepts(t, v)) {
      this.at(a.pos, argString(a));
      this.fail(`wrong type for value; expected ${paramName(t)}; got ${typeName(v)}`);
    }
    return v;
  }

  private async evalArgValue(dot: GoValue, a: Arg): Promise<GoValue> {
    switch (a.type) {
      case 'dot':
        return dot;
      case 'field':
        return await this.evalFieldChain(dot, dot, a, a.idents, [], NO_FINAL);
      case 'variable': {
        const v = this.variable(a.pos, a.idents[0]);
        return a.idents.length === 1
          ? v
          : await this.evalFieldChain(dot, v, a, a.idents.slice(1), [], NO_FINAL);
      }
      case 'pipe':
        return await this.evalPipeline(dot, a.pipe);
      case 'chain':
        return await this.evalFieldChain(
          dot,
          await this.evalArgValue(dot, a.node),
          a,
          a.fields,
          [],
          NO_FINAL,
        );
      case 'identifier':
        return await this.evalFunction(dot, a.name, { pos: a.pos, args: [a] }, [], NO_FINAL);
      default:
        return this.literal(a);
    }
  }
}

const NO_FINAL = Symbol('no final value');
