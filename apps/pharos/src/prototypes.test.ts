import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

// Built-in prototypes the hot paths call methods on. One in dictionary mode makes every such call
// in optimised code a generic lookup: ioredis' `class VerbatimString extends String` did that to
// String.prototype and cost the scrape path a tenth of its CPU.
const PROTOTYPES = [
  'String',
  'Array',
  'Object',
  'Function',
  'Map',
  'Set',
  'Number',
  'Uint8Array',
  'Float64Array',
  'DataView',
  'Promise',
];

describe('the embedded process module graph', () => {
  it('leaves the built-in prototypes in fast mode', () => {
    const modules = ['embedded.ts', 'flags.ts', 'test-command.ts', 'tsdb-command.ts'].map((m) =>
      JSON.stringify(join(HERE, m)),
    );
    const script = `
      ${modules.map((m) => `await import(${m});`).join('\n')}
      const slow = ${JSON.stringify(PROTOTYPES)}.filter((n) => !%HasFastProperties(globalThis[n].prototype));
      console.log(JSON.stringify(slow));
    `;
    const out = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop() ?? '[]'), []);
  });
});
