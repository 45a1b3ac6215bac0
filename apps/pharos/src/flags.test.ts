import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverCommand, splitHostPort, type ServerFlags } from './flags.js';

async function parse(args: string[]): Promise<ServerFlags> {
  let got: ServerFlags | undefined;
  const cmd = serverCommand(async (f) => {
    got = f;
  });
  cmd.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await cmd.parseAsync(['node', 'pharos', ...args]);
  if (!got) throw new Error('no flags');
  return got;
}

describe('flags', () => {
  it('has Prometheus defaults', async () => {
    const f = await parse([]);
    assert.equal(f.configFile, 'prometheus.yml');
    assert.equal(f.storage.path, 'data/');
    assert.equal(f.listenAddress, '0.0.0.0:9090');
    assert.equal(f.query.lookbackDelta, 300_000);
    assert.equal(f.query.timeout, 120_000);
    assert.equal(f.query.maxSamples, 50_000_000);
    assert.equal(f.enableLifecycle, false);
    assert.equal(f.all['web.listen-address'], '0.0.0.0:9090');
    assert.equal(f.storage.retentionTime, 15 * 86_400_000);
    assert.equal(f.storage.retentionSize, 0);
    assert.equal(f.storage.outOfOrderWindow, 0);
    assert.equal(f.shards, 2);
    // Unlike the web port, gRPC has no Prometheus default to keep: loopback unless asked for.
    assert.equal(f.grpcListenAddress, '127.0.0.1:9095');
  });

  it('drops the default retention time when only a size is given, as Prometheus', async () => {
    const f = await parse(['--storage.tsdb.retention.size=1GB']);
    assert.equal(f.storage.retentionTime, 0);
    assert.equal(f.storage.retentionSize, 1024 ** 3);
    const g = await parse(['--storage.tsdb.retention.size=1GB', '--storage.tsdb.retention.time=2h']);
    assert.equal(g.storage.retentionTime, 7_200_000);
  });

  it('takes --enable-feature repeated and comma-separated, as Prometheus', async () => {
    const f = await parse(['--enable-feature=promql-delayed-name-removal,foo', '--enable-feature', 'bar']);
    assert.deepEqual([...f.query.features].sort(), ['bar', 'foo', 'promql-delayed-name-removal']);
    assert.equal((await parse([])).query.features.size, 0);
  });

  it('rejects a malformed size or shard count', async () => {
    await assert.rejects(parse(['--storage.tsdb.retention.size=1gb']));
    await assert.rejects(parse(['--storage.tsdb.shards=0']));
    await assert.rejects(
      parse(['--query.max-samples=0']),
      /option '--query.max-samples <n>' argument '0' is invalid. not a positive integer: "0"/,
    );
  });

  it('takes the dotted flags, both spellings of the storage path', async () => {
    const f = await parse([
      '--config.file=x.yml',
      '--storage.path',
      '/tmp/d',
      '--web.listen-address=127.0.0.1:1',
      '--query.timeout=30s',
      '--web.enable-lifecycle',
    ]);
    assert.equal(f.configFile, 'x.yml');
    assert.equal(f.storage.path, '/tmp/d');
    assert.equal(f.query.timeout, 30_000);
    assert.equal(f.enableLifecycle, true);
    assert.equal((await parse(['--storage.tsdb.path=/a'])).storage.path, '/a');
  });

  it('rejects a bad duration and an unknown flag', async () => {
    await assert.rejects(parse(['--query.timeout=soon']), /not a valid duration/);
    await assert.rejects(parse(['--no.such-flag']), /unknown option/);
  });

  it('takes every flag from its PHAROS_* environment variable, the command line first', async () => {
    const set = (vars: Record<string, string>) => {
      for (const [k, v] of Object.entries(vars)) process.env[k] = v;
      return () => {
        for (const k of Object.keys(vars)) delete process.env[k];
      };
    };
    let unset = set({
      PHAROS_STORAGE_TSDB_RETENTION_TIME: '2h',
      PHAROS_QUERY_TIMEOUT: '7s',
      PHAROS_WEB_ENABLE_ADMIN_API: 'false',
      PHAROS_WEB_ENABLE_LIFECYCLE: 'true',
    });
    try {
      const f = await parse(['--query.timeout=9s']);
      assert.equal(f.storage.retentionTime, 7_200_000);
      assert.equal(f.query.timeout, 9_000);
      // Commander alone would turn a switch on for any value, "false" too.
      assert.equal(f.enableAdminApi, false);
      assert.equal(f.enableLifecycle, true);
      assert.equal(f.all['storage.tsdb.retention.time'], '2h');
    } finally {
      unset();
    }
    unset = set({ PHAROS_WEB_ENABLE_ADMIN_API: 'yes' });
    try {
      await assert.rejects(
        parse([]),
        /PHAROS_WEB_ENABLE_ADMIN_API="yes": --web.enable-admin-api takes true or false/,
      );
    } finally {
      unset();
    }
    unset = set({ PHAROS_QUERY_TIMEOUT: 'soon' });
    try {
      await assert.rejects(parse([]), /not a valid duration/);
    } finally {
      unset();
    }
  });

  const addrs: Array<[string, { host: string; port: number } | RegExp]> = [
    ['0.0.0.0:9090', { host: '0.0.0.0', port: 9090 }],
    [':9090', { host: '0.0.0.0', port: 9090 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['localhost', /want host:port/],
    ['a:70000', /out of range/],
  ];
  for (const [a, want] of addrs) {
    it(`splits ${a}`, () => {
      if (want instanceof RegExp) assert.throws(() => splitHostPort(a), want);
      else assert.deepEqual(splitHostPort(a), want);
    });
  }
});
