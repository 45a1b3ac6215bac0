// prometheus.yml files judged by the current promtool (Prometheus 3, built by
// ../shared/tools/anchors.sh) and by Pharos' loader: the same verdict for each, sections Pharos
// does not act on yet included, and merge keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePrometheusConfig } from '@pharos/config';
import { anchorBinary, ROOT } from './harness.js';

const DIR = join(ROOT, 'libs/config/src/testdata');
const FILES = [
  ...readdirSync(join(DIR, 'sections')).map((f) => join('sections', f)),
  'merge-keys.prometheus.yml',
];

describe('prometheus.yml: promtool check config and Pharos agree', () => {
  const promtool = anchorBinary('promtool');
  for (const file of FILES) {
    it(file, () => {
      const path = join(DIR, file);
      const r = spawnSync(promtool, ['check', 'config', '--syntax-only', path], { encoding: 'utf8' });
      let ours: string | undefined;
      try {
        parsePrometheusConfig(readFileSync(path, 'utf8'), path);
      } catch (e) {
        ours = (e as Error).message;
      }
      assert.equal(
        ours === undefined,
        r.status === 0,
        `promtool: ${r.stdout}${r.stderr}\nPharos: ${ours ?? 'accepted'}`,
      );
    });
  }
});
