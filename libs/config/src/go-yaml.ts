import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';

/**
 * YAML as Prometheus and Alertmanager read it (go-yaml v2 and v3), where that differs from the
 * `yaml` package's strict reading of the spec. Hand-written: no JavaScript YAML library reads as
 * go-yaml does, and these are the differences real configuration files rely on.
 */

/** A document read the go-yaml way: its root with aliases and merge keys resolved. */
export interface GoYamlDocument {
  readonly root: Node | null;
  readonly lines: LineCounter;
}

export class GoYamlError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'GoYamlError';
  }
}

function leadingSpaces(line: string): number {
  let n = 0;
  while (n < line.length && line[n] === ' ') n++;
  return n;
}

/**
 * go-yaml takes the continuation lines of a quoted scalar at any indentation, even left of the
 * key it belongs to (`expr: 'sum(` ... with the closing quote under `expr`); the spec, and so the
 * `yaml` package, wants them indented further. Folding drops a continuation line's leading
 * spaces, so indenting such lines further changes no value, and no line number moves.
 */
export function indentQuotedContinuations(text: string): string {
  if (!text.includes("'") && !text.includes('"')) return text;
  const lines = text.split('\n');
  let quote: "'" | '"' | null = null;
  let minIndent = 0;
  // Inside a block scalar (| or >): lines indented past this are its content, not YAML.
  let blockParent = -1;
  let flowDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    let indent = leadingSpaces(line);
    const blank = indent === line.length || line.trim() === '';
    if (quote !== null) {
      if (!blank && indent < minIndent) {
        line = ' '.repeat(minIndent - indent) + line;
        lines[i] = line;
        indent = minIndent;
      }
    } else if (blockParent >= 0) {
      if (blank || indent > blockParent) continue;
      blockParent = -1;
    }
    // Where a scalar may begin: a quote there opens a quoted scalar, elsewhere it is a character.
    let valueStart = quote === null;
    let pos = indent;
    while (pos < line.length) {
      const c = line[pos];
      if (quote === "'") {
        if (c === "'") {
          if (line[pos + 1] === "'") {
            pos += 2;
            continue;
          }
          quote = null;
          valueStart = false;
        }
        pos++;
        continue;
      }
      if (quote === '"') {
        if (c === '\\') {
          pos += 2;
          continue;
        }
        if (c === '"') {
          quote = null;
          valueStart = false;
        }
        pos++;
        continue;
      }
      const next = line[pos + 1];
      const spaceAfter = next === undefined || next === ' ' || next === '\t';
      if (c === ' ' || c === '\t') {
        pos++;
        continue;
      }
      if (c === '#' && (pos === 0 || line[pos - 1] === ' ' || line[pos - 1] === '\t')) break;
      if (valueStart && (c === "'" || c === '"')) {
        quote = c;
        // Past the opening quote's column is past every key on its line.
        minIndent = pos + 1;
        pos++;
        continue;
      }
      if (valueStart && flowDepth === 0 && (c === '|' || c === '>')) {
        blockParent = indent;
        break;
      }
      if ((c === '-' || c === '?') && valueStart && spaceAfter) {
        pos++;
        continue;
      }
      if (c === ':' && (spaceAfter || flowDepth > 0)) {
        valueStart = true;
        pos++;
        continue;
      }
      if ((c === '[' || c === '{') && (valueStart || flowDepth > 0)) {
        flowDepth++;
        valueStart = true;
        pos++;
        continue;
      }
      if (flowDepth > 0 && c === ',') {
        valueStart = true;
        pos++;
        continue;
      }
      if (flowDepth > 0 && (c === ']' || c === '}')) {
        flowDepth--;
        valueStart = false;
        pos++;
        continue;
      }
      if (valueStart && (c === '&' || c === '!')) {
        // An anchor or a tag: the scalar still begins after it.
        while (pos < line.length && line[pos] !== ' ') pos++;
        continue;
      }
      valueStart = false;
      pos++;
    }
  }
  return lines.join('\n');
}

const MERGE_KEY = '<<';

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.value === MERGE_KEY && key.type === 'PLAIN';
}

/**
 * Replaces every alias with the node it names and expands merge keys (`<<: *base`,
 * `<<: [*a, *b]`) in place, as go-yaml does: the map's own keys win, then earlier sources over
 * later ones. Merged pairs keep their own ranges, so an error in one points at the anchor.
 */
function resolve(doc: Document, lines: LineCounter): Node | null {
  const done = new Set<Node>();
  const active = new Set<Node>();
  const lineOf = (n: Node) => (n.range ? lines.linePos(n.range[0]).line : 0);
  const visit = (node: Node | null): Node | null => {
    if (node === null) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc) as Node | undefined;
      if (target === undefined)
        throw new GoYamlError(lineOf(node), `unknown anchor '${node.source}' referenced`);
      return visit(target);
    }
    if (done.has(node)) return node;
    if (active.has(node))
      throw new GoYamlError(lineOf(node), `anchor '${node.anchor ?? ''}' value contains itself`);
    active.add(node);
    if (isSeq(node)) {
      node.items = node.items.map((n) => visit(n as Node | null));
    } else if (isMap(node)) {
      mergeInto(node as YAMLMap, visit, lineOf);
    }
    active.delete(node);
    done.add(node);
    return node;
  };
  return visit((doc.contents as Node | null) ?? null);
}

function mergeInto(map: YAMLMap, visit: (n: Node | null) => Node | null, lineOf: (n: Node) => number): void {
  const own: Array<Pair<unknown, unknown>> = [];
  const sources: YAMLMap[] = [];
  for (const item of map.items as Array<Pair<unknown, unknown>>) {
    if (!isMergeKey(item.key)) {
      item.value = visit((item.value as Node | null) ?? null);
      own.push(item);
      continue;
    }
    const value = visit((item.value as Node | null) ?? null);
    const list = isSeq(value) ? (value.items as Array<Node | null>) : [value];
    for (const src of list) {
      if (!isMap(src))
        throw new GoYamlError(
          lineOf(item.key as Node),
          'map merge requires map or sequence of maps as the value',
        );
      sources.push(src as YAMLMap);
    }
  }
  if (sources.length === 0) return;
  const keyOf = (p: Pair<unknown, unknown>) => (isScalar(p.key) ? String(p.key.value) : p.key);
  const seen = new Set(own.map(keyOf));
  const merged = [...own];
  for (const src of sources) {
    for (const p of src.items as Array<Pair<unknown, unknown>>) {
      const k = keyOf(p);
      if (seen.has(k)) continue;
      seen.add(k);
      merged.push(p);
    }
  }
  map.items = merged;
}

/**
 * Parses a document as go-yaml would, for the loaders of every file Pharos shares with upstream
 * (prometheus.yml, rule files, alertmanager.yml, rule test files). `failsafe` reads every scalar
 * as its text, as Go does for string fields.
 */
export function parseGoYaml(text: string, opts: { failsafe?: boolean } = {}): GoYamlDocument {
  const lines = new LineCounter();
  const doc = parseDocument(indentQuotedContinuations(text), {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
    ...(opts.failsafe ? { schema: 'failsafe' } : {}),
  });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new GoYamlError(lines.linePos(e.pos[0]).line, e.message.split('\n')[0]);
  }
  return { root: resolve(doc, lines), lines };
}
