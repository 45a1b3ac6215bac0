import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { indentQuotedContinuations, type FileSDConfig } from '@pharos/config';
import { isValidLabelName } from '@pharos/model';
import { matchComponent } from './glob.js';
import { pause } from './refresh.js';
import {
  emptyGroup,
  type Discoverer,
  type DiscovererHooks,
  type GroupsUpdate,
  type TargetGroup,
} from './target-group.js';

const FILEPATH_LABEL = '__meta_filepath';
/** Editors write a file in steps: wait this long after the last change before reading. */
const SETTLE_MS = 100;

/** Reads and checks one file's target groups (a list of {targets, labels}, YAML or JSON). */
export function parseTargetFile(text: string, file: string): TargetGroup[] {
  const ext = extname(file).toLowerCase();
  let doc: unknown;
  try {
    doc = ext === '.json' ? JSON.parse(text) : parseYaml(indentQuotedContinuations(text), { merge: true });
  } catch (e) {
    throw new Error(`error parsing file ${file}: ${(e as Error).message}`);
  }
  if (doc == null) return [];
  if (!Array.isArray(doc)) throw new Error(`error parsing file ${file}: expected a list of target groups`);
  return doc.map((g: unknown, i): TargetGroup => {
    if (g === null || typeof g !== 'object' || Array.isArray(g))
      throw new Error(`error parsing file ${file}: group ${i} is not a mapping`);
    const { targets = [], labels = {}, ...rest } = g as { targets?: unknown; labels?: unknown };
    const extra = Object.keys(rest);
    if (extra.length > 0)
      throw new Error(`error parsing file ${file}: field ${extra[0]} not found in type targetgroup.Group`);
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string'))
      throw new Error(`error parsing file ${file}: targets of group ${i} must be a list of strings`);
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
      throw new Error(`error parsing file ${file}: labels of group ${i} must be a mapping`);
    const ls: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      if (!isValidLabelName(k))
        throw new Error(`error parsing file ${file}: ${JSON.stringify(k)} is not a valid label name`);
      if (typeof v !== 'string')
        throw new Error(`error parsing file ${file}: value of label ${k} must be a string`);
      ls[k] = v;
    }
    // Addresses are checked after relabeling, as upstream: a probe's URL becomes a parameter.
    ls[FILEPATH_LABEL] = file;
    return {
      source: `${file}:${i}`,
      targets: (targets as string[]).map((t) => ({ __address__: t })),
      labels: ls,
    };
  });
}

/**
 * file_sd_configs: files matched by the patterns (a glob in the last path component), re-read
 * when their directory changes and every refresh interval. A file that cannot be read or parsed
 * keeps the groups it last had.
 */
export class FileDiscoverer implements Discoverer {
  /** Sources each file contributed, so a shrinking or deleted file removes its groups. */
  private readonly sources = new Map<string, number>();

  constructor(
    private readonly cfg: FileSDConfig,
    private readonly hooks: DiscovererHooks = {},
  ) {}

  private async listFiles(): Promise<string[]> {
    const out: string[] = [];
    for (const pattern of this.cfg.files) {
      const dir = dirname(resolve(pattern));
      const base = basename(pattern);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (matchComponent(base, n)) out.push(join(dir, n));
    }
    return [...new Set(out)];
  }

  private async refresh(up: GroupsUpdate): Promise<void> {
    const files = await this.listFiles();
    const groups: TargetGroup[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        // Gone between listing and reading: the next round sees it removed.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          this.hooks.onError?.(`error reading file ${file}: ${(e as Error).message}`);
        continue;
      }
      let parsed: TargetGroup[];
      try {
        parsed = parseTargetFile(text, file);
      } catch (e) {
        this.hooks.onError?.((e as Error).message);
        continue;
      }
      const before = this.sources.get(file) ?? 0;
      for (let i = parsed.length; i < before; i++) groups.push(emptyGroup(`${file}:${i}`));
      this.sources.set(file, parsed.length);
      groups.push(...parsed);
    }
    const present = new Set(files);
    for (const [file, n] of this.sources) {
      if (present.has(file)) continue;
      for (let i = 0; i < n; i++) groups.push(emptyGroup(`${file}:${i}`));
      this.sources.delete(file);
    }
    up(groups);
  }

  async run(up: GroupsUpdate, signal: AbortSignal): Promise<void> {
    let pending: ReturnType<typeof setTimeout> | undefined;
    let running = Promise.resolve();
    const schedule = () => {
      if (pending) clearTimeout(pending);
      pending = setTimeout(() => {
        pending = undefined;
        running = running
          .then(() => (signal.aborted ? undefined : this.refresh(up)))
          .catch((e: Error) => this.hooks.onError?.(e.message));
      }, SETTLE_MS);
    };
    const watchers: FSWatcher[] = [];
    for (const dir of new Set(this.cfg.files.map((p) => dirname(resolve(p))))) {
      try {
        const w = watch(dir, schedule);
        w.on('error', (e) => this.hooks.onError?.(`error watching ${dir}: ${e.message}`));
        watchers.push(w);
      } catch (e) {
        this.hooks.onError?.(`error adding file watch for ${dir}: ${(e as Error).message}`);
      }
    }
    try {
      while (!signal.aborted) {
        running = running.then(() => this.refresh(up)).catch((e: Error) => this.hooks.onError?.(e.message));
        await running;
        if (!(await pause(this.cfg.refreshInterval, signal))) break;
      }
    } finally {
      if (pending) clearTimeout(pending);
      for (const w of watchers) w.close();
      await running;
    }
  }
}
