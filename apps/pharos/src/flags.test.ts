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
    assert.equal(f.storagePath, 'data/');
    assert.equal(f.listenAddress, '0.0.0.0:9090');
    assert.equal(f.lookbackDelta, 300_000);
    assert.equal(f.queryTimeout, 120_000);
    assert.equal(f.queryMaxSamples, 50_000_000);
    assert.equal(f.enableLifecycle, false);
    assert.equal(f.all['web.listen-address'], '0.0.0.0:9090');
    assert.equal(f.retentionTime, 15 * 86_400_000);
    assert.equal(f.retentionSize, 0);
    assert.equal(f.outOfOrderWindow, 0);
    assert.equal(f.shards, 2);
    // Unlike the web port, gRPC has no Prometheus default to keep: loopback unless asked for.
    assert.equal(f.grpcListenAddress, '127.0.0.1:9095');
  });

  it('drops the default retention time when only a size is given, as Prometheus', async () => {
    const f = await parse(['--storage.tsdb.retention.size=1GB']);
    assert.equal(f.retentionTime, 0);
    assert.equal(f.retentionSize, 1024 ** 3);
    const g = await parse(['--storage.tsdb.retention.size=1GB', '--storage.tsdb.retention.time=2h']);
    assert.equal(g.retentionTime, 7_200_000);
  });

  it('takes --enable-feature repeated and comma-separated, as Prometheus', async () => {
    const f = await parse(['--enable-feature=promql-delayed-name-removal,foo', '--enable-feature', 'bar']);
    assert.deepEqual([...f.features].sort(), ['bar', 'foo', 'promql-delayed-name-removal']);
    assert.equal((await parse([])).features.size, 0);
  });

  it('rejects a malformed size or shard count', async () => {
    await assert.rejects(parse(['--storage.tsdb.retention.size=1gb']));
    await assert.rejects(parse(['--storage.tsdb.shards=0']));
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
    assert.equal(f.storagePath, '/tmp/d');
    assert.equal(f.queryTimeout, 30_000);
    assert.equal(f.enableLifecycle, true);
    assert.equal((await parse(['--storage.tsdb.path=/a'])).storagePath, '/a');
  });

  it('rejects a bad duration and an unknown flag', async () => {
    await assert.rejects(parse(['--query.timeout=soon']), /not a valid duration/);
    await assert.rejects(parse(['--no.such-flag']), /unknown option/);
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
