import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mutationsOf } from '@pharos/model/testing';
import { ConfigError, parsePrometheusConfig, parseWebConfig } from './index.js';

const GOOD = readFileSync(join(import.meta.dirname, 'testdata/good.yml'), 'utf8');
const WEB = `tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
http_server_config:
  headers:
    X-Frame-Options: deny
rate_limit: {interval: 1s, burst: 10}
basic_auth_users:
  alice: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi
`;

/** A broken file must be a ConfigError naming the file, which the reload path shows and survives. */
function refusedOrLoaded(load: () => unknown, text: string): void {
  try {
    load();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `${String(e)} on ${JSON.stringify(text)}`);
    assert.match(e.message, /^fuzz\.yml/);
  }
}

describe('config loaders under bad input', () => {
  it('prometheus.yml: edits of a valid file load or give a ConfigError', () => {
    fc.assert(
      fc.property(mutationsOf(GOOD, 4), (text) =>
        refusedOrLoaded(() => parsePrometheusConfig(text, 'fuzz.yml'), text),
      ),
      { numRuns: 1500 },
    );
  });

  it('web config: edits of a valid file load or give a ConfigError', () => {
    fc.assert(
      fc.property(mutationsOf(WEB, 4), (text) =>
        refusedOrLoaded(() => parseWebConfig(text, 'fuzz.yml'), text),
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses YAML alias bombs instead of expanding them', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
scrape_configs: *g
`;
    assert.throws(() => parsePrometheusConfig(bomb, 'fuzz.yml'), ConfigError);
  });
});
