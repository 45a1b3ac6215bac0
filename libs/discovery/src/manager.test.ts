import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePrometheusConfig } from '@pharos/config';
import { DiscoveryManager } from './manager.js';
import type { TargetGroup } from './target-group.js';
import { eventually } from './testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pharos-sd-manager-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(jobs: string): ReturnType<typeof parsePrometheusConfig>['scrapeConfigs'] {
  return parsePrometheusConfig(`scrape_configs:\n${jobs}`).scrapeConfigs;
}

const addresses = (groups: readonly TargetGroup[] | undefined) =>
  (groups ?? []).flatMap((g) => g.targets.map((t) => t.__address__)).sort();

describe('discovery manager', () => {
  it('sends each job its full set, and a reload keeps unchanged providers running', async () => {
    const file = join(dir, 'targets.yml');
    writeFileSync(file, '- targets: [f1:9100]\n');
    const latest = new Map<string, readonly TargetGroup[]>();
    const updates: string[] = [];
    const m = new DiscoveryManager({
      onUpdate: (job, groups) => {
        latest.set(job, groups);
        updates.push(job);
      },
      updateDelayMs: 20,
    });
    const fileJob = `  - job_name: files\n    file_sd_configs: [{files: ['${file}'], refresh_interval: 1h}]\n`;
    m.apply(config(`  - job_name: static\n    static_configs: [{targets: [s1:1, s2:1]}]\n${fileJob}`));
    assert.deepEqual(addresses(latest.get('static')), ['s1:1', 's2:1'], 'static targets at once');
    await eventually(() => addresses(latest.get('files')).length === 1, 'file targets');
    assert.equal(latest.get('files')?.[0].source, `file/0/${file}:0`);

    // Reload: the static job changes, the file job does not; its provider keeps its targets.
    m.apply(config(`  - job_name: static\n    static_configs: [{targets: [s3:1]}]\n${fileJob}`));
    assert.deepEqual(addresses(latest.get('static')), ['s3:1']);
    assert.deepEqual(addresses(latest.get('files')), ['f1:9100'], 'no gap for an unchanged provider');

    // A provider removed by a reload takes its targets with it.
    m.apply(config(`  - job_name: files\n    static_configs: [{targets: [s4:1]}]\n`));
    assert.deepEqual(addresses(latest.get('files')), ['s4:1']);
    writeFileSync(file, '- targets: [f2:9100]\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(addresses(latest.get('files')), ['s4:1'], 'a stopped provider sends nothing');
    await m.stop();
  });
});
