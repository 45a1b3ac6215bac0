import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, formatDuration, parseByteSize, parseDuration, parsePrometheusConfig } from './index.js';

describe('parseDuration', () => {
  const good: Array<[string, number]> = [
    ['0', 0],
    ['15s', 15_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['2m3s4ms', 123_004],
  ];
  for (const [s, ms] of good) {
    it(`${s} = ${ms}ms and prints back`, () => {
      assert.equal(parseDuration(s), ms);
      assert.equal(parseDuration(formatDuration(ms)), ms);
    });
  }
  for (const s of ['', '1', '1.5s', 's', '1m1h', '1s1s', '-1s', '1 s']) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseDuration(s)));
  }
});

describe('parseByteSize', () => {
  const good: Array<[string, number]> = [
    ['0', 0],
    ['512B', 512],
    ['1KB', 1024],
    ['512MB', 512 * 1024 ** 2],
    ['2GB', 2 * 1024 ** 3],
  ];
  for (const [s, n] of good) it(`${s} = ${n}`, () => assert.equal(parseByteSize(s), n));
  for (const s of ['', '1', '1.5GB', 'GB', '1gb', '-1MB', '1 MB']) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseByteSize(s), /not a valid size/));
  }
});

describe('prometheus.yml', () => {
  it('applies upstream defaults and job overrides', () => {
    const text = readFileSync(new URL('./testdata/good.yml', import.meta.url), 'utf8');
    const c = parsePrometheusConfig(text);
    assert.equal(c.global.scrapeInterval, 15_000);
    assert.equal(c.global.scrapeTimeout, 10_000);
    assert.equal(c.global.evaluationInterval, 30_000);
    assert.deepEqual(c.global.externalLabels, { monitor: 'codelab' });
    assert.deepEqual(c.ruleFiles, ['rules/*.yml']);
    const [self, node] = c.scrapeConfigs;
    assert.equal(self.jobName, 'prometheus');
    assert.equal(self.scrapeInterval, 15_000);
    assert.equal(self.scrapeTimeout, 10_000);
    assert.equal(self.metricsPath, '/metrics');
    assert.equal(self.scheme, 'http');
    assert.equal(self.honorTimestamps, true);
    assert.deepEqual(self.scrapeProtocols, [
      'OpenMetricsText1.0.0',
      'OpenMetricsText0.0.1',
      'PrometheusText1.0.0',
      'PrometheusText0.0.4',
    ]);
    assert.deepEqual(self.staticConfigs, [{ targets: ['localhost:9090'], labels: { group: 'self' } }]);
    assert.equal(node.scrapeInterval, 5_000);
    assert.equal(node.scrapeTimeout, 5_000, 'timeout is capped at the job interval');
    assert.deepEqual(node.params, { module: ['http_2xx'] });
    assert.equal(node.sampleLimit, 1000);
    assert.equal(node.bodySizeLimit, 10 * 1024 * 1024);
    assert.equal(node.relabelConfigs[0].action, 'replace');
    assert.equal(node.relabelConfigs[0].replacement, '$1');
    assert.equal(node.relabelConfigs[0].separator, ';');
    assert.deepEqual(c.warnings, []);
  });

  it('reads alerting: alertmanagers with their defaults and alert relabeling', () => {
    const c = parsePrometheusConfig(
      [
        'alerting:',
        '  alert_relabel_configs: [{action: labeldrop, regex: replica}]',
        '  alertmanagers:',
        '    - static_configs: [{targets: ["127.0.0.1:9093"]}]',
        '    - scheme: https',
        '      path_prefix: /am',
        '      timeout: 3s',
        '      static_configs: [{targets: ["am:443"]}]',
      ].join('\n'),
    );
    assert.equal(c.alerting.alertRelabelConfigs[0].action, 'labeldrop');
    const [a, b] = c.alerting.alertmanagers;
    assert.deepEqual([a.scheme, a.pathPrefix, a.timeout, a.apiVersion], ['http', '', 10_000, 'v2']);
    assert.deepEqual(a.staticConfigs[0].targets, ['127.0.0.1:9093']);
    assert.deepEqual([b.scheme, b.pathPrefix, b.timeout], ['https', '/am', 3_000]);
    assert.throws(
      () => parsePrometheusConfig('alerting:\n  alertmanagers:\n    - api_version: v1\n'),
      /api version to be one of \[v2\] but got v1/,
    );
  });

  it('accepts an empty file as all defaults', () => {
    const c = parsePrometheusConfig('');
    assert.equal(c.global.scrapeInterval, 60_000);
    assert.equal(c.scrapeConfigs.length, 0);
  });

  it('warns about valid upstream fields it does not act on yet', () => {
    const c = parsePrometheusConfig(
      'scrape_configs:\n  - job_name: x\n    ec2_sd_configs:\n      - region: eu-west-1\n',
    );
    assert.match(c.warnings[0], /prometheus.yml:3: .*ec2_sd_configs is not supported/);
  });

  it('reads service discovery and HTTP client settings with upstream defaults', () => {
    const c = parsePrometheusConfig(
      [
        'scrape_configs:',
        '  - job_name: x',
        '    basic_auth: {username: u, password_file: /run/secret}',
        '    tls_config: {ca_file: /ca.pem, insecure_skip_verify: true, min_version: TLS12}',
        '    file_sd_configs: [{files: [targets/*.json]}]',
        '    dns_sd_configs: [{names: [_x._tcp.example.org]}]',
        '    consul_sd_configs: [{server: "c:8500", services: [web], node_meta: {rack: a}}]',
        '    kubernetes_sd_configs:',
        '      - role: endpoints',
        '        namespaces: {names: [prod]}',
        '        selectors: [{role: pod, label: "app=web"}]',
      ].join('\n'),
    ).scrapeConfigs[0];
    assert.deepEqual(c.http.basicAuth, { username: { value: 'u' }, password: { file: '/run/secret' } });
    assert.equal(c.http.tls.ca?.file, '/ca.pem');
    assert.equal(c.http.tls.minVersion, 'TLS12');
    assert.deepEqual(c.fileSDConfigs, [{ files: ['targets/*.json'], refreshInterval: 300_000 }]);
    assert.deepEqual(c.dnsSDConfigs, [
      { names: ['_x._tcp.example.org'], type: 'SRV', port: 0, refreshInterval: 30_000 },
    ]);
    assert.equal(c.consulSDConfigs[0].server, 'c:8500');
    assert.equal(c.consulSDConfigs[0].tagSeparator, ',');
    assert.equal(c.consulSDConfigs[0].refreshInterval, 30_000);
    assert.deepEqual(c.consulSDConfigs[0].nodeMeta, { rack: 'a' });
    assert.equal(c.kubernetesSDConfigs[0].role, 'endpoints');
    assert.deepEqual(c.kubernetesSDConfigs[0].selectors, [{ role: 'pod', label: 'app=web', field: '' }]);
  });

  const bad: Array<[string, number, RegExp]> = [
    ['global:\n  scrape_interval: 15x\n', 2, /not a valid duration/],
    ['global:\n  scrap_interval: 15s\n', 2, /field scrap_interval not found in type config.GlobalConfig/],
    ['scrape_configs:\n  - job_name: a\n  - job_name: a\n', 3, /multiple scrape configs with job name "a"/],
    ['scrape_configs:\n  - static_configs: []\n', 2, /job_name is empty/],
    [
      'scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [x], type: A}]\n',
      3,
      /a port is required in DNS-SD configs for all record types except SRV/,
    ],
    ['scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{}]\n', 3, /role missing/],
    [
      'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{role: pod, api_server: "http://k", kubeconfig_file: k}]\n',
      3,
      /cannot use 'kubeconfig_file' and 'api_server' simultaneously/,
    ],
    [
      'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{role: service, selectors: [{role: pod}]}]\n',
      3,
      /service role supports only service selectors/,
    ],
    [
      'scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [a.txt]}]\n',
      3,
      /is not valid for file discovery/,
    ],
    [
      'scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    authorization: {credentials: t}\n',
      4,
      /at most one of basic_auth, oauth2 & authorization must be configured/,
    ],
    [
      'scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n',
      4,
      /scrape timeout greater than scrape interval/,
    ],
    ['scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: "a(?=b)"\n', 4, /invalid regex/],
    [
      'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n',
      4,
      /unknown relabel action/,
    ],
    [
      'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n',
      4,
      /non-zero modulus/,
    ],
    [
      'scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {"": x}\n',
      4,
      /not a valid label name/,
    ],
    ['scrape_configs:\n  - job_name: a\n    honor_labels: yes please\n', 3, /true or false/],
    ['global: [1, 2]\n', 1, /must be a mapping/],
    ['global:\n  scrape_interval: 1s\n  scrape_interval: 2s\n', 3, /unique/i],
    ['scrape_configs:\n  - job_name: a\n    scrape_protocols: [Nope]\n', 3, /unknown scrape protocol Nope/],
    ['scrape_configs: [\n', 2, /./],
  ];
  for (const [text, line, re] of bad) {
    it(`rejects ${JSON.stringify(text.slice(0, 60))} at line ${line}`, () => {
      assert.throws(
        () => parsePrometheusConfig(text),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.line === line &&
          re.test(e.reason) &&
          e.message.startsWith(`prometheus.yml:${line}: `),
      );
    });
  }
});

describe('prometheus.yml read as go-yaml reads it', () => {
  it('expands merge keys and aliases (promtool check config accepts the file)', () => {
    const text = readFileSync(new URL('./testdata/merge-keys.prometheus.yml', import.meta.url), 'utf8');
    const c = parsePrometheusConfig(text, 'merge-keys.prometheus.yml');
    assert.deepEqual(
      c.scrapeConfigs.map((s) => [s.jobName, s.scrapeInterval, s.metricsPath, s.params]),
      [
        ['blackbox', 5000, '/probe', { module: ['http_2xx'] }],
        ['other', 5000, '/metrics', { module: ['http_2xx'] }],
      ],
    );
  });

  it('names a merged field that is wrong by the line it was written on', () => {
    const text =
      'scrape_configs:\n  - &j\n    job_name: a\n    scrape_intervall: 5s\n  - <<: *j\n    job_name: b\n';
    assert.throws(
      () => parsePrometheusConfig(text, 'p.yml'),
      (e: unknown) =>
        e instanceof ConfigError && e.line === 4 && /field scrape_intervall not found/.test(e.message),
    );
  });
});

describe('sections Pharos does not act on yet are still checked as upstream checks them', () => {
  const dir = new URL('./testdata/sections/', import.meta.url);
  // Each file's verdict is promtool 3.16's (`check config --syntax-only`); the e2e suite asks it again.
  const refused: Record<string, RegExp> = {
    'otlp_bad_strategy.yml': /unsupported OTLP translation strategy "Nope"/,
    'otlp_both.yml': /cannot be configured simultaneously/,
    'rr_no_url.yml': /url for remote_read is empty/,
    'runtime_unknown.yml': /field gomaxprocs not found in type config.RuntimeConfig/,
    'rw_auth_header.yml': /authorization header must be changed via the basic_auth/,
    'rw_azuread_none.yml': /must provide an Azure Managed Identity/,
    'rw_bad_credentials.yml': /credentials must be a single value/,
    'rw_bad_proto.yml': /unknown type for remote write protobuf message foo/,
    'rw_bad_relabel.yml': /missing closing \)/,
    'rw_dup_names.yml': /found multiple remote write configs with job name "a"/,
    'rw_min_gt_max.yml': /min_shards must not be greater than max_shards/,
    'rw_no_url.yml': /url for remote_write is empty/,
    'rw_reserved_header.yml': /Content-Type is a reserved header/,
    'rw_sigv4_key_only.yml': /must provide a AWS SigV4 Access key and Secret Key/,
    'rw_two_auth.yml': /Currently configured: \[basic_auth sigv4\]/,
    'rw_unknown_field.yml': /field max_shard not found in type config.QueueConfig/,
    'storage_bad_pct.yml': /must be in the range \[0, 100\], got 200/,
    'storage_unknown.yml': /field out_of_order_window not found in type config.TSDBConfig/,
    'tracing_bad_type.yml': /expected tracing client type to be to be http or grpc, but got udp/,
    'tracing_no_endpoint.yml': /tracing endpoint must be set/,
  };
  const accepted: Record<string, string> = {
    'otlp_ok.yml': 'otlp',
    'rr_ok.yml': 'remote_read',
    'runtime_ok.yml': 'runtime',
    'rw_azuread_ok.yml': 'remote_write',
    'rw_ok.yml': 'remote_write',
    'storage_ok.yml': 'storage',
    'tracing_ok.yml': 'tracing',
  };
  for (const [file, want] of Object.entries(refused)) {
    it(`refuses ${file}`, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      assert.throws(
        () => parsePrometheusConfig(text, file),
        (e: unknown) => e instanceof ConfigError && want.test(e.message),
      );
    });
  }
  for (const [file, section] of Object.entries(accepted)) {
    it(`accepts ${file}, warning once that ${section} is not acted on`, () => {
      const c = parsePrometheusConfig(readFileSync(new URL(file, dir), 'utf8'), file);
      assert.deepEqual(
        c.warnings.map((w) => w.replace(/^[^:]+:\d+: /, '')),
        [`config.Config: field ${section} is not supported by Pharos yet and is ignored`],
      );
    });
  }
});

describe('scrape_config_files', () => {
  it('loads the scrape configs of every file its globs match, relative to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pharos-scf-'));
    try {
      mkdirSync(join(dir, 'jobs'));
      writeFileSync(
        join(dir, 'jobs', 'a.yml'),
        'scrape_configs:\n  - job_name: a\n    static_configs: [{targets: [h:1]}]\n',
      );
      writeFileSync(
        join(dir, 'jobs', 'b.yml'),
        'scrape_configs:\n  - job_name: b\n    scrape_interval: 5s\n',
      );
      const main = join(dir, 'prometheus.yml');
      const c = parsePrometheusConfig(
        'global: {scrape_interval: 30s}\nscrape_config_files: [jobs/*.yml]\nscrape_configs:\n  - job_name: main\n',
        main,
      );
      assert.deepEqual(
        c.scrapeConfigs.map((s) => [s.jobName, s.scrapeInterval]),
        [
          ['main', 30_000],
          ['a', 30_000],
          ['b', 5_000],
        ],
      );
      assert.throws(
        () =>
          parsePrometheusConfig(
            'scrape_config_files: [jobs/*.yml]\nscrape_configs:\n  - job_name: a\n',
            main,
          ),
        /a\.yml:2: found multiple scrape configs with job name "a"/,
      );
      writeFileSync(
        join(dir, 'jobs', 'c.yml'),
        'scrape_configs:\n  - job_name: c\n    scrape_intervall: 5s\n',
      );
      assert.throws(
        () => parsePrometheusConfig('scrape_config_files: [jobs/*.yml]\n', main),
        /c\.yml:3: field scrape_intervall not found/,
      );
      assert.throws(
        () => parsePrometheusConfig('scrape_config_files: ["jobs/*/x*.yml"]\n', main),
        /invalid scrape config file path/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
