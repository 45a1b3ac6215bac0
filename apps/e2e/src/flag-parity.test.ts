// One set of flags: every flag the all-in-one has for a component is on that component's role,
// with the same meaning, default and environment variable, read from the built binaries' help.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Option } from 'commander';
import { queryOptions } from '@pharos/api';
import { storageOptions } from '@pharos/ingest';
import { ruleOptions } from '@pharos/rules';
import { PHAROS_MAIN } from './harness.js';
import {
  ALERTMANAGER_MAIN,
  DISCOVERY_MAIN,
  INGESTER_MAIN,
  QUERIER_MAIN,
  RULER_MAIN,
  SCRAPER_MAIN,
} from './kafka-roles.js';

/** Each option of a binary's --help, by flag: the rest of its line, padding dropped. */
function helpOf(main: string): Map<string, string> {
  const out = execFileSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
  const flags = new Map<string, string>();
  let last: string | undefined;
  for (const line of out.split('\n')) {
    const m = /^ {2}(?:-\w, )?(--[\w.-]+)(?: <[^>]+>)?\s+(.*)$/.exec(line);
    if (m) flags.set((last = m[1]), m[2].trim());
    // Commander wraps long descriptions onto indented lines of their own.
    else if (last && /^\s+\S/.test(line)) flags.set(last, `${flags.get(last)} ${line.trim()}`);
    else last = undefined;
  }
  return flags;
}

const names = (options: Option[]) => options.map((o) => o.long as string);

describe('flags of the all-in-one and the roles', () => {
  const pharos = helpOf(PHAROS_MAIN);
  const roles: Array<[string, string, string[]]> = [
    ['ingester', INGESTER_MAIN, names(storageOptions())],
    ['querier', QUERIER_MAIN, names(queryOptions())],
    ['ruler', RULER_MAIN, [...names(queryOptions()), ...names(ruleOptions())]],
  ];
  for (const [role, main, flags] of roles) {
    it(`the ${role} role has the all-in-one's ${flags.length} flags of its component, alike`, () => {
      const help = helpOf(main);
      for (const flag of flags) {
        assert.ok(pharos.has(flag), `the all-in-one has ${flag}`);
        assert.equal(help.get(flag), pharos.get(flag), `${flag} on the ${role} role`);
      }
    });
  }

  it('names an environment variable for every flag of every binary', () => {
    const mains = [PHAROS_MAIN, INGESTER_MAIN, QUERIER_MAIN, RULER_MAIN, SCRAPER_MAIN, DISCOVERY_MAIN];
    for (const main of [...mains, ALERTMANAGER_MAIN]) {
      for (const [flag, rest] of helpOf(main)) {
        if (flag === '--help') continue;
        assert.match(rest, /env: PHAROS_[A-Z0-9_]+\)$/, `${main} ${flag}`);
      }
    }
  });
});
