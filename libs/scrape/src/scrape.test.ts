import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createGzip, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusConfig } from '@pharos/config';
import { formatLabels, isStaleNaN, shardOf, type SampleBatch } from '@pharos/model';
import { staticGroups } from '@pharos/discovery';
import { populateTarget, scrapeDispatcher, ScrapeLoop, ScrapeManager, type ResolvedTarget } from './index.js';

let server: Server;
let port = 0;
let body = '';
let contentType: string | undefined = 'text/plain; version=0.0.4';
let status = 200;
let delay = 0;
let gzip = false;
/** Sent as it is, gzip-encoded already (a bomb). */
let rawBody: Buffer | undefined;
let lastAccept = '';
let lastAuthorization: string | undefined;
const testdata = (f: string) => fileURLToPath(new URL(`./testdata/${f}`, import.meta.url));

before(async () => {
  server = createServer((req, res) => {
    lastAccept = String(req.headers.accept);
    lastAuthorization = req.headers.authorization;
    setTimeout(() => {
      const headers: Record<string, string> = {};
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (gzip || rawBody) headers['content-encoding'] = 'gzip';
      res.writeHead(status, headers);
      res.end(rawBody ?? (gzip ? gzipSync(body) : body));
    }, delay);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
const dispatchers: Array<ReturnType<typeof scrapeDispatcher>> = [];
after(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
  await new Promise<void>((r) => server.close(() => r()));
});

function reset(): void {
  body = '';
  contentType = 'text/plain; version=0.0.4';
  status = 200;
  delay = 0;
  gzip = false;
}

class Capture {
  batches: SampleBatch[] = [];
  async publish(b: SampleBatch): Promise<void> {
    this.batches.push(b);
  }
  rows(): string[] {
    const out: string[] = [];
    for (const b of this.batches) {
      for (let i = 0; i < b.refs.length; i++) {
        const v = b.values[i];
        out.push(`${formatLabels(b.series[b.refs[i]])} ${isStaleNaN(v) ? 'stale' : v}`);
      }
    }
    this.batches = [];
    return out;
  }
}

/** A sink that takes batches by partition, as the sample bus does, and checks each one's series. */
class PartitionedCapture extends Capture {
  readonly partitions = 3;
  async publishPartitioned(parts: ReadonlyArray<SampleBatch | undefined>): Promise<void> {
    assert.equal(parts.length, this.partitions);
    parts.forEach((b, p) => {
      if (!b) return;
      for (const h of b.hashes) assert.equal(shardOf(h, this.partitions), p);
      this.batches.push(b);
    });
  }
  override async publish(): Promise<void> {
    throw new Error('a partitioned sink is published to by partition');
  }
}

function makeLoop<S extends Capture = Capture>(
  extra = '',
  address = `127.0.0.1:${port}`,
  sink: S = new Capture() as S,
  onOutOfBounds?: (n: number) => void,
) {
  const cfg = parsePrometheusConfig(
    `scrape_configs:\n  - job_name: test\n    scrape_interval: 10s\n    scrape_timeout: 500ms\n${extra}    static_configs:\n      - targets: ['${address}']\n        labels: {env: dev}\n`,
  ).scrapeConfigs[0];
  const [g] = staticGroups(cfg);
  const r = populateTarget(g.targets[0], g, cfg);
  assert.equal(r.kind, 'target');
  const dispatcher = scrapeDispatcher(cfg.http);
  dispatchers.push(dispatcher);
  const loop = new ScrapeLoop(
    (r as { target: ResolvedTarget }).target,
    cfg,
    sink,
    dispatcher,
    (e) => {
      throw e;
    },
    undefined,
    onOutOfBounds,
  );
  return { loop, sink };
}

function value(rows: string[], prefix: string): string | undefined {
  return rows
    .find((r) => r.startsWith(prefix))
    ?.split(' ')
    .pop();
}

describe('scrape loop', () => {
  it('refuses exposed timestamps more than 10 minutes ahead, as out of bounds, and keeps the rest', async () => {
    reset();
    const now = Date.now();
    const day = 86_400_000;
    body = `far_future 1 ${now + 16 * day}\njust_ahead 2 ${now + 9 * 60_000}\nnow 3 ${now}\nno_timestamp 4\n`;
    status = 200;
    const refused: number[] = [];
    const { loop, sink } = makeLoop('', undefined, undefined, (n) => refused.push(n));
    await loop.scrapeOnce(now);
    const rows = sink.rows();
    assert.equal(value(rows, 'far_future{'), undefined);
    assert.equal(value(rows, 'just_ahead{'), '2');
    assert.equal(value(rows, 'now{'), '3');
    assert.equal(value(rows, 'no_timestamp{'), '4');
    assert.deepEqual(refused, [1]);
    assert.equal(value(rows, 'up{'), '1');
  });

  it("builds each partition's batch for a partitioned sink, with the samples a plain sink gets", async () => {
    reset();
    const series = (n: number) => Array.from({ length: n }, (_, i) => `m{i="${i}"} ${i}\n`).join('');
    const runs: string[][] = [];
    for (const sink of [new Capture(), new PartitionedCapture()]) {
      const { loop } = makeLoop('', undefined, sink);
      const rows: string[] = [];
      // New series, then half of them gone (stale markers), then a failed scrape (all stale).
      for (const [i, b] of [series(40), series(20)].entries()) {
        body = b;
        status = 200;
        await loop.scrapeOnce(1000 * (i + 1));
        rows.push(...sink.rows());
      }
      status = 500;
      await loop.scrapeOnce(3000);
      await loop.markStale(4000);
      rows.push(...sink.rows());
      runs.push(rows.filter((r) => !r.startsWith('scrape_duration_seconds{')).sort());
    }
    assert.ok(runs[0].some((r) => r.startsWith('m{') && r.endsWith(' stale')));
    assert.deepEqual(runs[1], runs[0]);
  });

  it('scrapes, adds target labels and the report series', async () => {
    reset();
    body =
      '# TYPE http_requests_total counter\nhttp_requests_total{code="200",job="exposed"} 10\ntemp 21.5\n';
    const { loop, sink } = makeLoop();
    await loop.scrapeOnce(1000);
    const rows = sink.rows();
    const inst = `127.0.0.1:${port}`;
    assert.ok(
      rows.includes(
        `http_requests_total{code="200", env="dev", exported_job="exposed", instance="${inst}", job="test"} 10`,
      ),
      rows.join('\n'),
    );
    assert.ok(rows.includes(`temp{env="dev", instance="${inst}", job="test"} 21.5`));
    assert.equal(value(rows, 'up{'), '1');
    assert.equal(value(rows, 'scrape_samples_scraped{'), '2');
    assert.equal(value(rows, 'scrape_samples_post_metric_relabeling{'), '2');
    assert.equal(value(rows, 'scrape_series_added{'), '2');
    assert.ok(rows.some((r) => r.startsWith('scrape_duration_seconds{')));
    assert.equal(loop.status.health, 'up');
    assert.equal(loop.metadata.get('http_requests_total')?.type, 'counter');
    assert.match(lastAccept, /^application\/openmetrics-text;version=1\.0\.0;q=0\.5,/);
  });

  it('forgets series a churning target stopped exposing, and keeps the steady ones', async () => {
    reset();
    const { loop } = makeLoop();
    const cached = () => (loop as unknown as { cache: Map<string, unknown> }).cache.size;
    body = 'steady 1\n';
    for (let i = 0; i < 4; i++) await loop.scrapeOnce(1000 * (i + 1));
    assert.equal(cached(), 1);
    for (let i = 0; i < 10; i++) {
      body = `steady 1\nchurn{pod="p${i}"} 1\n`;
      await loop.scrapeOnce(10_000 * (i + 1));
    }
    // Pods seen within the last two scrapes stay (the walk runs every other scrape); older go.
    assert.ok(cached() <= 4, String(cached()));
  });

  it('stores each line under its own series whatever the last scrapes were: reordered, cut or failed halfway', async () => {
    // Line k is first compared with the series the last scrape had on line k, and only its text
    // is compared; a loop with that history must store exactly what a loop seeing the body first
    // stores. Series that are prefixes of each other are the traps.
    const series = ['m', 'm{a="1"}', 'm{a="11"}', 'm{a="1",b="2"}', 'n{a="1"}', '{"m",a="1"}'];
    const line = fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...series) },
      { weight: 1, arbitrary: fc.constant('m{a="1"') }, // malformed: the scrape fails on this line
    );
    const scrapes = fc.array(fc.uniqueArray(line, { minLength: 1, maxLength: 6 }), {
      minLength: 2,
      maxLength: 5,
    });
    const samples = (rows: string[]) =>
      rows.filter((r) => !r.endsWith(' stale') && !/^(up|scrape_[a-z_]+)\{/.test(r));
    reset();
    await fc.assert(
      fc.asyncProperty(scrapes, async (bodies) => {
        const { loop, sink } = makeLoop();
        for (const [i, lines] of bodies.entries()) {
          body = lines.map((l, k) => `${l} ${i * 10 + k}\n`).join('');
          await loop.scrapeOnce(1000 * (i + 1));
          const fresh = makeLoop();
          await fresh.loop.scrapeOnce(1000 * (i + 1));
          assert.deepEqual(samples(sink.rows()), samples(fresh.sink.rows()), body);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps exposed labels with honor_labels', async () => {
    reset();
    body = 'm{job="exposed"} 1\n';
    const { loop, sink } = makeLoop('    honor_labels: true\n');
    await loop.scrapeOnce(1000);
    assert.ok(sink.rows().some((r) => r.startsWith('m{env="dev", instance=') && r.includes('job="exposed"')));
  });

  it('applies metric_relabel_configs before counting', async () => {
    reset();
    body = 'keep_me 1\ndrop_me 2\n';
    const { loop, sink } = makeLoop(
      '    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: drop_.*\n        action: drop\n',
    );
    await loop.scrapeOnce(1000);
    const rows = sink.rows();
    assert.ok(!rows.some((r) => r.startsWith('drop_me')));
    assert.equal(value(rows, 'scrape_samples_scraped{'), '2');
    assert.equal(value(rows, 'scrape_samples_post_metric_relabeling{'), '1');
  });

  it('writes staleness markers for series that disappear', async () => {
    reset();
    body = 'a 1\nb 2\n';
    const { loop, sink } = makeLoop();
    await loop.scrapeOnce(1000);
    sink.rows();
    body = 'a 1\n';
    await loop.scrapeOnce(2000);
    const rows = sink.rows();
    assert.ok(
      rows.some((r) => r.startsWith('b{') && r.endsWith(' stale')),
      rows.join('\n'),
    );
    assert.ok(rows.some((r) => r.startsWith('a{') && r.endsWith(' 1')));
  });

  it('parses OpenMetrics when the target answers with it', async () => {
    reset();
    contentType = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
    body = '# TYPE c counter\nc_total 5 1\n# EOF\n';
    const { loop, sink } = makeLoop();
    await loop.scrapeOnce(5000);
    const b = sink.batches[0];
    assert.equal(b.timestamps[0], 1000, 'explicit OpenMetrics timestamps are seconds and honored');
    assert.ok(sink.rows().some((r) => r.startsWith('c_total{')));
  });

  it('decompresses gzip and enforces body_size_limit on the uncompressed size', async () => {
    reset();
    gzip = true;
    body = `big ${'1'.repeat(10)}\n`.repeat(100);
    const { loop } = makeLoop('    body_size_limit: 1KB\n');
    await loop.scrapeOnce(1000);
    assert.equal(loop.status.lastError, 'body size limit exceeded');
  });

  it('refuses a gzip bomb as it decodes, whatever its trailer says, and scrapes on', async () => {
    // 600 MiB of one line repeated, past what a scrape can hold, in well under a MiB of gzip.
    const line = Buffer.from(`bomb 1\n`.repeat(8192));
    const z = createGzip({ level: 1 });
    const parts: Buffer[] = [];
    z.on('data', (d: Buffer) => parts.push(d));
    const done = new Promise((res) => z.on('end', res));
    for (let n = 0; n < 600 * 2 ** 20; n += line.length) if (!z.write(line)) await once(z, 'drain');
    z.end();
    await done;
    const honest = Buffer.concat(parts);
    const lying = Buffer.from(honest);
    lying.writeUInt32LE(100, lying.length - 4);
    for (const [name, bomb] of [
      ['stated', honest],
      ['lying', lying],
    ] as const) {
      reset();
      rawBody = bomb;
      const { loop } = makeLoop('');
      await loop.scrapeOnce(1000);
      assert.match(
        loop.status.lastError,
        /body of \d+ bytes is larger than the \d+ bytes a scrape can hold/,
        name,
      );
      rawBody = undefined;
      body = 'after_bomb 1\n';
      await loop.scrapeOnce(2000);
      assert.equal(loop.status.lastError, '', `${name}: the next scrape works`);
    }
  });

  const failures: Array<[string, () => void, string, RegExp]> = [
    ['HTTP 500', () => (status = 500), '', /server returned HTTP status 500 Internal Server Error/],
    ['a malformed body', () => (body = 'ok 1\nbad{ 2\n'), '', /line 2: /],
    ['a timeout', () => (delay = 1500), '', /context deadline exceeded/],
    ['too many samples', () => (body = 'a 1\nb 2\nc 3\n'), '    sample_limit: 2\n', /sample limit exceeded/],
    ['too many labels', () => (body = 'a{x="1",y="2"} 1\n'), '    label_limit: 3\n', /label_limit exceeded/],
    [
      'no content type',
      () => (contentType = undefined),
      '',
      /unsupported Content-Type "" and no fallback_scrape_protocol/,
    ],
  ];
  for (const [name, setup, extra, re] of failures) {
    it(`reports up 0 and a clear error for ${name}`, async () => {
      reset();
      body = 'a 1\n';
      const { loop, sink } = makeLoop(extra);
      await loop.scrapeOnce(1000);
      sink.rows();
      setup();
      await loop.scrapeOnce(2000);
      const rows = sink.rows();
      assert.equal(value(rows, 'up{'), '0');
      assert.equal(loop.status.health, 'down');
      assert.match(loop.status.lastError, re);
      // What the previous good scrape wrote is marked stale; nothing of the failed one is written.
      if (name !== 'too many labels')
        assert.ok(
          rows.some((r) => r.startsWith('a{') && r.endsWith(' stale')),
          rows.join('\n'),
        );
    });
  }

  it('reports a refused connection', async () => {
    reset();
    const { loop, sink } = makeLoop('', '127.0.0.1:1');
    await loop.scrapeOnce(1000);
    assert.equal(value(sink.rows(), 'up{'), '0');
    assert.match(loop.status.lastError, /connection refused/);
  });

  it('uses the fallback protocol when the content type is missing', async () => {
    reset();
    contentType = undefined;
    body = 'a 1\n';
    const { loop, sink } = makeLoop('    fallback_scrape_protocol: PrometheusText0.0.4\n');
    await loop.scrapeOnce(1000);
    assert.equal(value(sink.rows(), 'up{'), '1');
  });
});

describe('scrape HTTP client', () => {
  it('sends basic_auth and authorization credentials, inline or from a file', async () => {
    reset();
    body = 'a 1\n';
    const { loop } = makeLoop("    basic_auth: {username: 'u', password: 'p:w'}\n");
    await loop.scrapeOnce(1000);
    assert.equal(lastAuthorization, `Basic ${Buffer.from('u:p:w').toString('base64')}`);
    const bearer = makeLoop(`    authorization: {credentials_file: '${testdata('token')}'}\n`);
    await bearer.loop.scrapeOnce(1000);
    assert.equal(lastAuthorization, 'Bearer s3cr3t');
    const custom = makeLoop('    authorization: {type: Token, credentials: abc}\n');
    await custom.loop.scrapeOnce(1000);
    assert.equal(lastAuthorization, 'Token abc');
    const none = makeLoop();
    await none.loop.scrapeOnce(1000);
    assert.equal(lastAuthorization, undefined);
  });

  it('scrapes over TLS with tls_config, and refuses an unknown certificate authority', async () => {
    const tlsServer = createHttpsServer(
      { cert: readFileSync(testdata('server.crt')), key: readFileSync(testdata('server.key')) },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end('secure 1\n');
      },
    );
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    try {
      const trusted = makeLoop(
        `    scheme: https\n    tls_config: {ca_file: '${testdata('server.crt')}'}\n`,
        address,
      );
      await trusted.loop.scrapeOnce(1000);
      assert.equal(trusted.loop.status.lastError, '');
      assert.ok(trusted.sink.rows().some((r) => r.startsWith('secure{')));
      const untrusted = makeLoop('    scheme: https\n', address);
      await untrusted.loop.scrapeOnce(1000);
      assert.match(untrusted.loop.status.lastError, /certificate/);
      const skip = makeLoop('    scheme: https\n    tls_config: {insecure_skip_verify: true}\n', address);
      await skip.loop.scrapeOnce(1000);
      assert.equal(skip.loop.status.health, 'up');
    } finally {
      await Promise.all(dispatchers.splice(0).map((d) => d.close()));
      tlsServer.closeAllConnections();
      await new Promise<void>((r) => tlsServer.close(() => r()));
    }
  });
});

describe('scrape manager', () => {
  it('skips a job whose HTTP client cannot be built and says why', async () => {
    const config = parsePrometheusConfig(
      'scrape_configs:\n  - job_name: tls\n    tls_config: {ca_file: /nonexistent/ca.pem}\n  - job_name: ok\n',
    );
    const m = new ScrapeManager(new Capture());
    const errors = await m.applyConfig(config);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /error creating HTTP client for job "tls": .*ENOENT/);
    assert.deepEqual(m.poolNames(), ['ok']);
    await m.stop();
  });

  it('fails every scrape of a pool over target_limit with the reason, and recovers under it', async () => {
    reset();
    body = 'a 1\n';
    const config = parsePrometheusConfig(
      `scrape_configs:\n  - job_name: lim\n    scrape_interval: 1h\n    target_limit: 1\n    static_configs: [{targets: ['127.0.0.1:${port}', 'localhost:${port}']}]\n`,
    );
    const errors: string[] = [];
    const m = new ScrapeManager(new Capture(), { onTargetError: (_p, e) => errors.push(e) });
    await m.applyConfig(config);
    const [cfg] = config.scrapeConfigs;
    await m.setGroups('lim', staticGroups(cfg));
    const loops = m.activeTargets().map((t) => t.loop);
    assert.equal(loops.length, 2, 'targets stay, as upstream');
    await loops[0].scrapeOnce(1000);
    assert.equal(loops[0].status.lastError, 'target_limit exceeded (number of targets: 2, limit: 1)');
    assert.deepEqual(errors, ['target_limit exceeded (number of targets: 2, limit: 1)']);
    await m.setGroups('lim', [{ ...staticGroups(cfg)[0], targets: [{ __address__: `127.0.0.1:${port}` }] }]);
    const [left] = m.activeTargets();
    await left.loop.scrapeOnce(2000);
    assert.equal(left.loop.status.health, 'up');
    await m.stop();
  });
});

describe('target labels', () => {
  it('builds the URL from __scheme__, __address__, __metrics_path__ and params', () => {
    const cfg = parsePrometheusConfig(
      `scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n    params: {module: [http_2xx]}\n    static_configs: [{targets: ['example.org']}]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - target_label: __address__\n        replacement: 127.0.0.1:9115\n`,
    ).scrapeConfigs[0];
    const [g] = staticGroups(cfg);
    const r = populateTarget(g.targets[0], g, cfg);
    assert.equal(r.kind, 'target');
    if (r.kind !== 'target') return;
    assert.equal(r.target.url, 'http://127.0.0.1:9115/probe?module=http_2xx&target=example.org');
    assert.equal(formatLabels(r.target.publicLabels), '{instance="127.0.0.1:9115", job="blackbox"}');
  });

  // What Prometheus 3 does with each (promtool check config, then the target's URL).
  const probeJob = (target: string, extra: string) =>
    `scrape_configs:\n  - job_name: probe\n    metrics_path: /probe\n    static_configs: [{targets: ['${target}']}]\n${extra}`;
  const toParam = `    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - target_label: __address__\n        replacement: 127.0.0.1:9115\n`;
  const urls: Array<[string, string, string]> = [
    [
      'a URL moved to __param_target',
      probeJob('https://example.org', toParam),
      'http://127.0.0.1:9115/probe?target=https%3A%2F%2Fexample.org',
    ],
    [
      "metrics_path: ''",
      `scrape_configs:\n  - job_name: j\n    metrics_path: ''\n    static_configs: [{targets: ['h:1']}]\n`,
      'http://h:1',
    ],
    [
      'metrics_path without its slash',
      `scrape_configs:\n  - job_name: j\n    metrics_path: metrics\n    static_configs: [{targets: ['h:1']}]\n`,
      'http://h:1/metrics',
    ],
  ];
  for (const [name, yaml, url] of urls) {
    it(`takes ${name}`, () => {
      const cfg = parsePrometheusConfig(yaml).scrapeConfigs[0];
      const [g] = staticGroups(cfg);
      const r = populateTarget(g.targets[0], g, cfg);
      assert.equal(r.kind === 'target' ? r.target.url : r.kind, url);
    });
  }

  it('refuses a URL target only where no relabeling can move it, and after relabeling', () => {
    assert.throws(
      () => parsePrometheusConfig(probeJob('https://example.org', '')),
      /"https:\/\/example.org" is not a valid hostname/,
    );
    const keep = `    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n`;
    const cfg = parsePrometheusConfig(probeJob('https://example.org', keep)).scrapeConfigs[0];
    const [g] = staticGroups(cfg);
    const r = populateTarget(g.targets[0], g, cfg);
    assert.equal(r.kind, 'error');
    assert.match(r.kind === 'error' ? r.error : '', /"https:\/\/example.org" is not a valid hostname/);
  });

  it('drops a target that relabeling removes and reports a bad one', () => {
    const cfg = parsePrometheusConfig(
      `scrape_configs:\n  - job_name: j\n    static_configs: [{targets: ['a:1', 'b:2']}]\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: 'a:1'\n        action: drop\n`,
    ).scrapeConfigs[0];
    const [g] = staticGroups(cfg);
    assert.equal(populateTarget(g.targets[0], g, cfg).kind, 'dropped');
    assert.equal(populateTarget(g.targets[1], g, cfg).kind, 'target');
  });
});
