import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileDiscoverer, parseTargetFile } from './file.js';
import { matchComponent } from './glob.js';
import { Updates } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pharos-file-sd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('file target format', () => {
  const cases: Array<[string, string, string, string | RegExp]> = [
    [
      'YAML',
      'a.yml',
      '- targets: [h1:9100, h2:9100]\n  labels: {env: prod}\n',
      '[{"source":"/x/a.yml:0","targets":[{"__address__":"h1:9100"},{"__address__":"h2:9100"}],"labels":{"env":"prod","__meta_filepath":"/x/a.yml"}}]',
    ],
    [
      'JSON',
      'a.json',
      '[{"targets": ["h:1"]}, {"targets": ["h:2"], "labels": {"x": "y"}}]',
      '[{"source":"/x/a.json:0","targets":[{"__address__":"h:1"}],"labels":{"__meta_filepath":"/x/a.json"}},{"source":"/x/a.json:1","targets":[{"__address__":"h:2"}],"labels":{"x":"y","__meta_filepath":"/x/a.json"}}]',
    ],
    ['an empty file', 'e.yml', '', '[]'],
    ['an empty label name', 'b.yml', '- targets: [h:1]\n  labels: {"": y}\n', /"" is not a valid label name/],
    ['an unknown field', 'b.yml', '- targets: [h:1]\n  target: [h:2]\n', /field target not found/],
    ['broken JSON', 'b.json', '[{"targets": [', /error parsing file \/x\/b\.json/],
    // Checked after relabeling, as upstream: a blackbox job's file lists URLs to probe.
    [
      'a URL as a target',
      'b.yml',
      '- targets: [https://example.org]\n',
      '[{"source":"/x/b.yml:0","targets":[{"__address__":"https://example.org"}],"labels":{"__meta_filepath":"/x/b.yml"}}]',
    ],
  ];
  for (const [name, file, text, want] of cases) {
    it(`reads ${name}`, () => {
      if (typeof want === 'string') assert.equal(JSON.stringify(parseTargetFile(text, `/x/${file}`)), want);
      else assert.throws(() => parseTargetFile(text, `/x/${file}`), want);
    });
  }

  it('matches globs as filepath.Match', () => {
    const table: Array<[string, string, boolean]> = [
      ['*.yml', 'a.yml', true],
      ['*.yml', 'a.yaml', false],
      ['targets-*.json', 'targets-1.json', true],
      ['t?.json', 'ta.json', true],
      ['t[0-9].json', 't5.json', true],
      ['t[!0-9].json', 't5.json', false],
      ['*.yml', '.hidden.yml', true],
    ];
    for (const [p, n, want] of table) assert.equal(matchComponent(p, n), want, `${p} ~ ${n}`);
  });
});

describe('file_sd_configs watching files', () => {
  it('adds, changes and removes targets as files change, and keeps the last good ones of a broken file', async () => {
    const a = join(dir, 'a.yml');
    const b = join(dir, 'b.json');
    writeFileSync(a, '- targets: [h1:9100]\n');
    writeFileSync(join(dir, 'ignored.txt'), 'not a target file');
    const errors: string[] = [];
    // A long refresh interval: changes must arrive through the watch.
    const d = new FileDiscoverer(
      { files: [join(dir, '*.yml'), join(dir, '*.json')], refreshInterval: 60_000 },
      { onError: (m) => errors.push(m) },
    );
    const up = new Updates();
    const ac = new AbortController();
    const done = d.run(up.fn, ac.signal);
    const addrs = (src: string) => (up.state.get(src)?.targets ?? []).map((t) => t.__address__).join(',');
    try {
      await up.until(() => addrs(`${a}:0`) === 'h1:9100');
      assert.equal(up.state.get(`${a}:0`)?.labels.__meta_filepath, a);
      writeFileSync(
        b,
        JSON.stringify([{ targets: ['j1:80'] }, { targets: ['j2:80'], labels: { team: 'x' } }]),
      );
      await up.until(() => addrs(`${b}:1`) === 'j2:80');
      writeFileSync(a, '- targets: [h1:9100, h2:9100]\n');
      await up.until(() => addrs(`${a}:0`) === 'h1:9100,h2:9100');
      writeFileSync(a, '- targets: [h3:9100\n');
      await up.until(() => errors.length > 0);
      assert.match(errors[0], /error parsing file .*a\.yml/);
      assert.equal(addrs(`${a}:0`), 'h1:9100,h2:9100');
      writeFileSync(b, JSON.stringify([{ targets: ['j1:80'] }]));
      await up.until(() => addrs(`${b}:1`) === '');
      unlinkSync(b);
      await up.until(() => addrs(`${b}:0`) === '');
    } finally {
      ac.abort();
      await done;
    }
  });
});
