import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { runUnitTestFile } from '@pharos/rules';

/** `pharos test rules <file>...`: promtool's rule unit tests, with its output and exit status. */
export function testCommand(): Command {
  const test = new Command('test').description('Unit testing.');
  test
    .command('rules')
    .description('Unit tests for rules (the promtool test rules format).')
    .argument('<test-rule-file...>', 'The unit test file.')
    .action(async (files: string[]) => {
      // As promtool's argument check: a missing file is a usage error, before any test runs.
      const missing = files.find((f) => !existsSync(f));
      if (missing !== undefined) {
        process.stderr.write(`pharos: error: path '${missing}' does not exist, try --help\n`);
        process.exitCode = 1;
        return;
      }
      let failed = false;
      for (const f of files) {
        const r = await runUnitTestFile(f);
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        if (!r.ok) failed = true;
      }
      process.exitCode = failed ? 1 : 0;
    });
  return test;
}
