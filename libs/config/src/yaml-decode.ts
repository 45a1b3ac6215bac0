import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import { GoYamlError, parseGoYaml } from './go-yaml.js';
import { isValidLabelName } from '@pharos/model';
import { parseDuration } from './duration.js';

/** A configuration error that names the file and line, as a user needs to fix it. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** Walks a parsed YAML document, turning nodes into typed values with line-aware errors. */
export class Decoder {
  readonly lines: LineCounter;
  readonly warnings: string[] = [];
  readonly root: Node | null;

  constructor(
    readonly file: string,
    text: string,
  ) {
    try {
      ({ root: this.root, lines: this.lines } = parseGoYaml(text));
    } catch (e) {
      if (e instanceof GoYamlError) throw new ConfigError(file, e.line, e.message);
      throw e;
    }
  }

  lineOf(node: Node | null | undefined): number {
    const r = node?.range;
    return r ? this.lines.linePos(r[0]).line : 0;
  }

  fail(node: Node | null | undefined, reason: string): never {
    throw new ConfigError(this.file, this.lineOf(node), reason);
  }

  warn(node: Node | null | undefined, reason: string): void {
    this.warnings.push(`${this.file}:${this.lineOf(node)}: ${reason}`);
  }

  /**
   * Reads a mapping whose keys must all be known: `known` lists accepted keys, `unsupported`
   * those that are valid upstream but not acted on yet (loaded with a warning).
   */
  fields(
    node: Node | null | undefined,
    type: string,
    known: readonly string[],
    unsupported: readonly string[] = [],
  ): Fields {
    if (node == null || (isScalar(node) && node.value == null)) return new Fields(this, null, new Map());
    if (!isMap(node)) this.fail(node, `${type} must be a mapping`);
    const map = node as YAMLMap;
    const out = new Map<string, Pair<Node, Node>>();
    for (const item of map.items as Array<Pair<Node, Node>>) {
      const keyNode = item.key;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      if (unsupported.includes(key)) {
        this.warn(keyNode, `${type}: field ${key} is not supported by Pharos yet and is ignored`);
        continue;
      }
      if (!known.includes(key)) this.fail(keyNode, `field ${key} not found in type ${type}`);
      out.set(key, item);
    }
    return new Fields(this, map, out);
  }
}

export class Fields {
  constructor(
    readonly d: Decoder,
    readonly node: YAMLMap | null,
    private readonly items: Map<string, Pair<Node, Node>>,
  ) {}

  has(key: string): boolean {
    const v = this.items.get(key)?.value;
    return v != null && !(isScalar(v) && v.value == null);
  }

  raw(key: string): Node | null {
    return (this.items.get(key)?.value as Node | undefined) ?? null;
  }

  private scalar(key: string): unknown {
    const v = this.raw(key);
    if (v == null) return undefined;
    if (!isScalar(v)) this.d.fail(v, `${key} must be a single value`);
    return v.value ?? undefined;
  }

  str(key: string, def: string): string;
  str(key: string): string | undefined;
  str(key: string, def?: string): string | undefined {
    const v = this.scalar(key);
    if (v === undefined) return def;
    if (typeof v === 'object') this.d.fail(this.raw(key), `${key} must be a string`);
    return String(v);
  }

  bool(key: string, def: boolean): boolean {
    const v = this.scalar(key);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.d.fail(this.raw(key), `${key} must be true or false`);
    return v;
  }

  int(key: string, def: number): number {
    const v = this.scalar(key);
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      this.d.fail(this.raw(key), `${key} must be a non-negative integer`);
    }
    return v;
  }

  duration(key: string, def: number): number {
    const v = this.scalar(key);
    if (v === undefined) return def;
    try {
      return parseDuration(String(v));
    } catch (e) {
      return this.d.fail(this.raw(key), `${key}: ${(e as Error).message}`);
    }
  }

  /** A byte size like Prometheus' units.Base2Bytes: "10MB", "512KiB", "0". */
  bytes(key: string, def: number): number {
    const v = this.scalar(key);
    if (v === undefined) return def;
    const m = /^(\d+)(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?$/.exec(String(v));
    if (!m) this.d.fail(this.raw(key), `${key}: invalid size ${JSON.stringify(v)}`);
    const mult: Record<string, number> = {
      B: 1,
      KB: 1024,
      KiB: 1024,
      MB: 1024 ** 2,
      MiB: 1024 ** 2,
      GB: 1024 ** 3,
      GiB: 1024 ** 3,
      TB: 1024 ** 4,
      TiB: 1024 ** 4,
    };
    return Number(m[1]) * mult[m[2] ?? 'B'];
  }

  seq(key: string): Node[] {
    const v = this.raw(key);
    if (v == null || (isScalar(v) && v.value == null)) return [];
    if (!isSeq(v)) this.d.fail(v, `${key} must be a list`);
    return v.items as Node[];
  }

  strList(key: string): string[] {
    return this.seq(key).map((n) => {
      if (!isScalar(n) || n.value == null || typeof n.value === 'object')
        this.d.fail(n, `${key} entries must be strings`);
      return String(n.value);
    });
  }

  /** A map of label names to values, names checked. */
  labelMap(key: string): Record<string, string> {
    const v = this.raw(key);
    const out: Record<string, string> = {};
    if (v == null || (isScalar(v) && v.value == null)) return out;
    if (!isMap(v)) this.d.fail(v, `${key} must be a mapping of label names to values`);
    for (const item of (v as YAMLMap).items as Array<Pair<Node, Node>>) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      if (!isValidLabelName(name)) this.d.fail(item.key, `${JSON.stringify(name)} is not a valid label name`);
      const val = item.value;
      if (val != null && (!isScalar(val) || typeof val.value === 'object')) {
        this.d.fail(val, `value of label ${name} must be a string`);
      }
      out[name] = val == null || !isScalar(val) || val.value == null ? '' : String(val.value);
    }
    return out;
  }

  /** A map of strings to strings, keys unchecked (Consul's `node_meta`, Kubernetes selectors). */
  stringMap(key: string): Record<string, string> {
    const v = this.raw(key);
    const out: Record<string, string> = {};
    if (v == null || (isScalar(v) && v.value == null)) return out;
    if (!isMap(v)) this.d.fail(v, `${key} must be a mapping`);
    for (const item of (v as YAMLMap).items as Array<Pair<Node, Node>>) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      const val = item.value;
      if (val != null && (!isScalar(val) || typeof val.value === 'object'))
        this.d.fail(val, `${key}.${name} must be a string`);
      out[name] = val == null || !isScalar(val) || val.value == null ? '' : String(val.value);
    }
    return out;
  }

  /** A map of strings to lists of strings (scrape `params`). */
  stringListMap(key: string): Record<string, string[]> {
    const v = this.raw(key);
    const out: Record<string, string[]> = {};
    if (v == null || (isScalar(v) && v.value == null)) return out;
    if (!isMap(v)) this.d.fail(v, `${key} must be a mapping`);
    for (const item of (v as YAMLMap).items as Array<Pair<Node, Node>>) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      if (!isSeq(item.value)) this.d.fail(item.value ?? item.key, `${key}.${name} must be a list of strings`);
      out[name] = (item.value.items as Node[]).map((n) =>
        isScalar(n) ? String(n.value) : this.d.fail(n, 'expected a string'),
      );
    }
    return out;
  }
}
