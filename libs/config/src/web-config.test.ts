import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bcryptHashProblem, parseWebConfig } from './web-config.js';

const HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';

describe('parseWebConfig', () => {
  it('reads every section, paths relative to the file', () => {
    const c = parseWebConfig(
      `tls_server_config:
  cert_file: tls/server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [client.example]
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Content-Type-Options: nosniff
    Strict-Transport-Security: max-age=31536000
rate_limit:
  interval: 100ms
  burst: 5
basic_auth_users:
  alice: ${HASH}
`,
      '/etc/pharos/web.yml',
    );
    assert.deepEqual(c.tls, {
      cert: { file: '/etc/pharos/tls/server.crt' },
      key: { file: '/abs/server.key' },
      clientCA: { file: '/etc/pharos/ca.crt' },
      clientAuth: 'RequireAndVerifyClientCert',
      clientAllowedSans: ['client.example'],
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'],
      curves: ['X25519', 'P-256'],
      preferServerCipherSuites: true,
    });
    assert.equal(c.http2, false);
    assert.deepEqual(c.headers, {
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000',
    });
    assert.deepEqual(c.rateLimit, { interval: 100, burst: 5 });
    assert.deepEqual(c.users, { alice: HASH });
  });

  it('serves plain HTTP when no TLS field is set', () => {
    const c = parseWebConfig(`basic_auth_users:\n  alice: ${HASH}\n`, 'web.yml');
    assert.equal(c.tls, undefined);
    assert.equal(c.http2, true);
    assert.deepEqual(parseWebConfig('', 'web.yml').users, {});
  });

  // Messages as exporter-toolkit words them, so a user searching for one finds upstream's answers.
  const refused: Array<[string, string, RegExp]> = [
    ['unknown field', 'tls_config: {}\n', /field tls_config not found in type web\.Config/],
    ['cert without key', 'tls_server_config:\n  cert_file: a.crt\n', /missing one of key or key_file/],
    ['key without cert', 'tls_server_config:\n  key_file: a.key\n', /missing one of cert or cert_file/],
    [
      'bad client auth',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n',
      /invalid ClientAuth: Sometimes/,
    ],
    [
      'CA without policy',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n',
      /client CA's have been configured without a Client Auth Policy/,
    ],
    [
      'SANs without a required certificate',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca\n  client_allowed_sans: [x]\n',
      /client_allowed_sans requires client_auth_type/,
    ],
    [
      'bad TLS version',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n',
      /unknown TLS version: TLS14/,
    ],
    [
      'bad cipher',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [RC4]\n',
      /unknown cipher: RC4/,
    ],
    [
      'bad curve',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P999]\n',
      /unknown curve: P999/,
    ],
    [
      'forbidden header',
      'http_server_config:\n  headers:\n    Set-Cookie: a=b\n',
      /HTTP header "Set-Cookie" can not be configured/,
    ],
    [
      'bad header value',
      'http_server_config:\n  headers:\n    X-Frame-Options: allow\n',
      /invalid value for X-Frame-Options\. Expected one of: \["deny" "sameorigin"\], but got: "allow"/,
    ],
    ['plain password', 'basic_auth_users:\n  alice: secret\n', /bcrypt hashes must start with '\$'/],
    ['short hash', 'basic_auth_users:\n  alice: $2y$10$abc\n', /too short to be a bcrypted password/],
    ['bad rate limit', 'rate_limit:\n  interval: soon\n', /interval/],
    ['not YAML', 'basic_auth_users: [\n', /web\.yml:\d+:/],
  ];
  for (const [name, text, want] of refused)
    it(`refuses ${name}`, () => assert.throws(() => parseWebConfig(text, 'web.yml'), want));
});

describe('bcryptHashProblem', () => {
  it('accepts $2a$, $2b$ and $2y$ hashes and refuses costs out of range', () => {
    for (const v of ['a', 'b', 'y'])
      assert.equal(bcryptHashProblem(HASH.replace('$2y$', `$2${v}$`)), undefined);
    assert.match(String(bcryptHashProblem(HASH.replace('$10$', '$03$'))), /cost 3 is outside allowed range/);
  });
});
