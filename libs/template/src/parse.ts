import { lex, TemplateSyntaxError, type Token } from './lex.js';
import { unquote, unquoteChar, UnquoteError } from './unquote.js';

/** The parse tree of Go's text/template (text/template/parse), as far as templates here use it. */
export interface ControlNode {
  readonly type: 'if' | 'with' | 'range';
  readonly pos: number;
  readonly pipe: Pipe;
  readonly list: Node[];
  readonly elseList: Node[] | null;
}

export type Node =
  | { readonly type: 'text'; readonly pos: number; readonly text: string }
  | { readonly type: 'action'; readonly pos: number; readonly pipe: Pipe }
  | ControlNode
  | { readonly type: 'template'; readonly pos: number; readonly name: string; readonly pipe: Pipe | null }
  | { readonly type: 'break' | 'continue'; readonly pos: number };

export interface Pipe {
  readonly pos: number;
  readonly isAssign: boolean;
  readonly decl: readonly string[];
  readonly cmds: readonly Command[];
}

export interface Command {
  readonly pos: number;
  readonly args: readonly Arg[];
}

export type Arg =
  | { readonly type: 'field'; readonly pos: number; readonly idents: readonly string[] }
  | { readonly type: 'variable'; readonly pos: number; readonly idents: readonly string[] }
  | { readonly type: 'identifier'; readonly pos: number; readonly name: string }
  | { readonly type: 'dot'; readonly pos: number }
  | { readonly type: 'nil'; readonly pos: number }
  | { readonly type: 'bool'; readonly pos: number; readonly value: boolean }
  | { readonly type: 'number'; readonly pos: number; readonly text: string; readonly value: number | bigint }
  | { readonly type: 'string'; readonly pos: number; readonly quoted: string; readonly value: string }
  | { readonly type: 'pipe'; readonly pos: number; readonly pipe: Pipe }
  | { readonly type: 'chain'; readonly pos: number; readonly node: Arg; readonly fields: readonly string[] };

export interface Tree {
  readonly name: string;
  readonly text: string;
  readonly root: Node[];
}

/** A parse error in Go's words: `template: NAME:LINE: reason`. */
export class TemplateParseError extends Error {
  constructor(
    readonly templateName: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`template: ${templateName}:${line}: ${reason}`);
    this.name = 'TemplateParseError';
  }
}

export function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function parseNumber(text: string, pos: number): number | bigint {
  const t = text.replace(/_/g, '');
  if (t.endsWith('i')) throw new TemplateSyntaxError(pos, `complex numbers are not supported: ${text}`);
  if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)$/.test(t) && !/^[+-]?0[0-7]*[89]/.test(t)) {
    const neg = t.startsWith('-');
    const body = t.replace(/^[+-]/, '');
    const v = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
    return neg ? -v : v;
  }
  const f = Number(t);
  if (Number.isNaN(f)) throw new TemplateSyntaxError(pos, `illegal number syntax: "${text}"`);
  return f;
}

interface FuncCheck {
  has(name: string): boolean;
}

/** Parses `text` into templates: the main one under `name` and each {{define}}d one. */
export function parseTemplates(name: string, text: string, funcs: FuncCheck): Map<string, Tree> {
  const trees = new Map<string, Tree>();
  let tokens: Token[];
  try {
    tokens = lex(text);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new TemplateParseError(name, lineOf(text, e.pos), e.reason);
    throw e;
  }
  const p = new Parser(tokens, text, name, funcs, trees);
  const root = p.parseTop();
  const existing = trees.get(name);
  // An empty main template does not replace a {{define}} of the same name.
  if (!existing || root.some((n) => n.type !== 'text' || n.text.trim() !== ''))
    trees.set(name, { name, text, root });
  return trees;
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private current: string;

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
    name: string,
    private readonly funcs: FuncCheck,
    private readonly trees: Map<string, Tree>,
  ) {
    this.current = name;
  }

  private fail(pos: number, reason: string): never {
    throw new TemplateParseError(this.current, lineOf(this.text, pos), reason);
  }

  /** Reads a quoted literal's token, failing at it in Go's words when it is malformed. */
  private literal<T>(t: Token, read: (val: string) => T): T {
    try {
      return read(t.val);
    } catch (e) {
      if (e instanceof UnquoteError) this.fail(t.pos, e.message);
      throw e;
    }
  }

  private unquote(t: Token): string {
    return this.literal(t, unquote);
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'EOF';
      case 'right':
        return `"}}"`;
      default:
        return JSON.stringify(t.val);
    }
  }

  parseTop(): Node[] {
    const out: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return out;
      if (
        t.kind === 'left' &&
        this.tokens[this.i + 1]?.kind === 'keyword' &&
        this.tokens[this.i + 1].val === 'define'
      ) {
        this.i += 2;
        this.parseDefine(t.pos);
        continue;
      }
      const n = this.textOrAction();
      if (n === 'end' || n === 'else') this.fail(t.pos, `unexpected {{${n}}}`);
      if (n !== null) out.push(n);
    }
  }

  private parseDefine(pos: number): void {
    const nameTok = this.next();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString')
      this.fail(pos, 'name of template must be a string');
    const name = this.unquote(nameTok);
    this.expect('right', 'define clause');
    const saved = this.vars;
    const savedName = this.current;
    this.vars = ['$'];
    this.current = name;
    const [list, end] = this.itemList();
    if (end !== 'end') this.fail(pos, 'unexpected {{else}}');
    this.trees.set(name, { name, text: this.text, root: list });
    this.vars = saved;
    this.current = savedName;
  }

  private expect(kind: Token['kind'], context: string): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(t.pos, `unexpected ${this.describe(t)} in ${context}`);
    return t;
  }

  /** Nodes up to an {{end}} or {{else}}, which is returned and consumed (else's keyword only). */
  private itemList(): [Node[], 'end' | 'else'] {
    const out: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') this.fail(t.pos, 'unexpected EOF');
      const n = this.textOrAction();
      if (n === 'end' || n === 'else') return [out, n];
      if (n !== null) out.push(n);
    }
  }

  private textOrAction(): Node | 'end' | 'else' | null {
    const t = this.next();
    if (t.kind === 'text') return { type: 'text', pos: t.pos, text: t.val };
    if (t.kind === 'comment') return null;
    if (t.kind !== 'left') this.fail(t.pos, `unexpected ${this.describe(t)}`);
    return this.action(t.pos);
  }

  private action(pos: number): Node | 'end' | 'else' {
    const t = this.peek();
    if (t.kind === 'keyword') {
      this.i++;
      switch (t.val) {
        case 'end':
          this.expect('right', 'end');
          return 'end';
        case 'else':
          // `else if` / `else with` are handled by the caller: leave the keyword for it.
          if (this.peek().kind === 'keyword' && (this.peek().val === 'if' || this.peek().val === 'with'))
            return 'else';
          this.expect('right', 'else');
          return 'else';
        case 'if':
        case 'with':
        case 'range':
          return this.control(t.val, t.pos);
        case 'template':
          return this.templateCall(t.pos);
        case 'block': {
          const nameTok = this.next();
          if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString')
            this.fail(nameTok.pos, `unexpected ${this.describe(nameTok)} in block clause`);
          const name = this.unquote(nameTok);
          const pipe = this.pipeline('block', 'right');
          const savedName = this.current;
          this.current = name;
          const [list] = this.itemList();
          this.current = savedName;
          this.trees.set(name, { name, text: this.text, root: list });
          return { type: 'template', pos: t.pos, name, pipe };
        }
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.fail(t.pos, `{{${t.val}}} outside {{range}}`);
          this.expect('right', t.val);
          return { type: t.val, pos: t.pos };
        case 'define':
          this.fail(t.pos, 'unexpected <define> in command');
      }
    }
    return { type: 'action', pos, pipe: this.pipeline('command', 'right') };
  }

  private templateCall(pos: number): Node {
    const nameTok = this.next();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString')
      this.fail(nameTok.pos, `unexpected ${this.describe(nameTok)} in template clause`);
    const name = this.unquote(nameTok);
    if (this.peek().kind === 'right') {
      this.i++;
      return { type: 'template', pos, name, pipe: null };
    }
    return { type: 'template', pos, name, pipe: this.pipeline('template clause', 'right') };
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const depth = this.vars.length;
    const pipe = this.pipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const [list, end] = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (end === 'else') {
      const t = this.peek();
      if ((kind === 'if' || kind === 'with') && t.kind === 'keyword' && t.val === kind) {
        // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} with one shared {{end}}.
        this.i++;
        elseList = [this.control(kind, t.pos)];
      } else {
        const [l, end2] = this.itemList();
        if (end2 === 'else') this.fail(this.peek().pos, 'expected end; found {{else}}');
        elseList = l;
      }
    }
    this.vars.length = depth;
    return { type: kind, pos, pipe, list, elseList };
  }

  private pipeline(context: string, end: 'right' | 'rightParen'): Pipe {
    const start = this.peek().pos;
    const decl: string[] = [];
    let isAssign = false;
    // Declarations: $x := or $x = or (range) $i, $e :=
    const t0 = this.peek();
    if (t0.kind === 'variable') {
      const t1 = this.tokens[this.i + 1];
      const t2 = this.tokens[this.i + 2];
      const t3 = this.tokens[this.i + 3];
      if (t1.kind === 'declare' || t1.kind === 'assign') {
        this.i += 2;
        decl.push(t0.val);
        isAssign = t1.kind === 'assign';
        if (isAssign && !this.vars.includes(t0.val)) this.fail(t0.pos, `undefined variable "${t0.val}"`);
      } else if (
        context === 'range' &&
        t1.kind === 'comma' &&
        t2?.kind === 'variable' &&
        (t3?.kind === 'declare' || t3?.kind === 'assign')
      ) {
        this.i += 4;
        decl.push(t0.val, t2.val);
        isAssign = t3.kind === 'assign';
      } else if (t1.kind === 'comma') {
        this.fail(t1.pos, `too many declarations in ${context}`);
      }
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === end) {
        this.i++;
        break;
      }
      if (t.kind === 'eof' || (t.kind === 'right' && end === 'rightParen')) {
        this.fail(t.pos, t.kind === 'eof' ? 'unexpected EOF' : `unclosed left paren`);
      }
      if (cmds.length > 0) {
        if (t.kind !== 'pipe') this.fail(t.pos, `unexpected ${this.describe(t)} in ${context}`);
        this.i++;
      }
      cmds.push(this.command(end));
    }
    if (cmds.length === 0) this.fail(start, `missing value for ${context}`);
    for (let k = 1; k < cmds.length; k++) {
      const first = cmds[k].args[0];
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(first.type))
        this.fail(first.pos, `non executable command in pipeline stage ${k + 1}`);
    }
    // Declared after the pipeline is parsed, as in Go: `$x := $x` refers to an outer $x.
    for (const v of decl) if (!isAssign) this.vars.push(v);
    return { pos: start, isAssign, decl, cmds };
  }

  private command(end: 'right' | 'rightParen'): Command {
    const pos = this.peek().pos;
    const args: Arg[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === end || t.kind === 'pipe' || t.kind === 'eof' || t.kind === 'right') break;
      if (args.length > 0 && !t.spaced) this.fail(t.pos, `unexpected ${this.describe(t)} in operand`);
      args.push(this.operand());
    }
    if (args.length === 0) this.fail(pos, 'missing value for command');
    return { pos, args };
  }

  private operand(): Arg {
    const term = this.term();
    // A field chain right after the term: (x).Field, $x.Field handled in term.
    if (this.peek().kind === 'field' && !this.peek().spaced) {
      const fields: string[] = [];
      while (this.peek().kind === 'field' && !this.peek().spaced)
        fields.push(...this.next().val.slice(1).split('.'));
      if (term.type === 'field' || term.type === 'variable')
        return { ...term, idents: [...term.idents, ...fields] } as Arg;
      if (['bool', 'string', 'number', 'nil', 'dot'].includes(term.type))
        this.fail(
          term.pos,
          `unexpected . after term ${JSON.stringify(this.tokens[this.i - 1 - fields.length]?.val)}`,
        );
      return { type: 'chain', pos: term.pos, node: term, fields };
    }
    return term;
  }

  private term(): Arg {
    const t = this.next();
    switch (t.kind) {
      case 'identifier':
        if (!this.funcs.has(t.val)) this.fail(t.pos, `function "${t.val}" not defined`);
        return { type: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable':
        if (!this.vars.includes(t.val)) this.fail(t.pos, `undefined variable "${t.val}"`);
        return { type: 'variable', pos: t.pos, idents: [t.val] };
      case 'field':
        return { type: 'field', pos: t.pos, idents: t.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'char': {
        const [ch, tail] = this.literal(t, (val) => unquoteChar(val, 1, "'"));
        if (tail !== t.val.length - 1) this.fail(t.pos, `malformed character constant: ${t.val}`);
        return { type: 'number', pos: t.pos, text: t.val, value: BigInt(ch.codePointAt(0) ?? 0) };
      }
      case 'number':
        try {
          return { type: 'number', pos: t.pos, text: t.val, value: parseNumber(t.val, t.pos) };
        } catch (e) {
          if (e instanceof TemplateSyntaxError) this.fail(e.pos, e.reason);
          throw e;
        }
      case 'string':
      case 'rawString':
        return { type: 'string', pos: t.pos, quoted: t.val, value: this.unquote(t) };
      case 'leftParen':
        return { type: 'pipe', pos: t.pos, pipe: this.pipeline('parenthesized pipeline', 'rightParen') };
      default:
        this.fail(t.pos, `unexpected ${this.describe(t)} in operand`);
    }
  }
}

/** A node as Go prints it in an execution error's context (`<.Labels.foo>`). */
export function argString(a: Arg): string {
  switch (a.type) {
    case 'field':
      return `.${a.idents.join('.')}`;
    case 'variable':
      return a.idents.join('.');
    case 'identifier':
      return a.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.value);
    case 'number':
      return a.text;
    case 'string':
      return a.quoted;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
    case 'chain':
      return `${argString(a.node)}.${a.fields.join('.')}`;
  }
}

export function commandString(c: Command): string {
  return c.args.map(argString).join(' ');
}

export function pipeString(p: Pipe): string {
  const decl = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(commandString).join(' | ');
}
