// The TSDB admin API (--web.enable-admin-api) on the all-in-one beside a real Prometheus given the
// same remote-written samples: delete_series leaves the same data behind, refusals and answers
// match, the deletion survives a restart, and a snapshot opens as storage of its own.
import assert from 'node:assert/strict';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labelsFrom, SampleBatchBuilder } from '@pharos/model';
import { encodeWriteRequest, snappyEncode } from '@pharos/remote';
import { removeDir, startPharos, startPrometheus, tempDir, type Pharos, type Prometheus } from './harness.js';

const ADMIN = ['--web.enable-admin-api', '--web.enable-remote-write-receiver'];
const EMPTY = () => 'global: {scrape_interval: 1h}\n';

describe('TSDB admin API against Prometheus', { timeout: 180_000 }, () => {
  let pharos: Pharos;
  let prom: Prometheus;
  const dirs: string[] = [];
  // Ten minutes of samples ending now, every 15 s, for two series.
  const end = Math.floor(Date.now() / 15_000) * 15_000;
  const start = end - 10 * 60_000;

  before(async () => {
    pharos = await startPharos(EMPTY, { args: ADMIN });
    prom = await startPrometheus(EMPTY(), { args: ADMIN });
    const b = new SampleBatchBuilder();
    for (const job of ['a', 'b']) {
      const s = b.addSeries(labelsFrom({ __name__: 'admin_test', job }));
      for (let t = start; t <= end; t += 15_000) b.add(s, t, t / 1000);
    }
    const body = Buffer.from(snappyEncode(encodeWriteRequest(b.build())));
    for (const url of [pharos.url, prom.url]) {
      const r = await fetch(`${url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        body,
      });
      assert.equal(r.status, 204, `${url}: ${await r.text()}`);
    }
  });
  after(async () => {
    await Promise.all([pharos?.proc.stop(), prom?.proc.stop()]);
    for (const d of [pharos?.dir, prom?.dir, ...dirs]) if (d) removeDir(d);
  });

  const call = async (url: string, path: string, method = 'POST') => {
    const r = await fetch(`${url}/api/v1/admin/tsdb/${path}`, { method });
    return { status: r.status, body: await r.text() };
  };
  const both = async (path: string, method = 'POST') => {
    const [p, q] = await Promise.all([call(pharos.url, path, method), call(prom.url, path, method)]);
    assert.equal(p.status, q.status, `${path}: pharos ${p.body} / prometheus ${q.body}`);
    return { pharos: p, prometheus: q };
  };
  const series = async (url: string) => {
    const q = new URLSearchParams({
      query: 'admin_test',
      start: String(start / 1000),
      end: String(end / 1000),
      step: '15',
    });
    const r = (await (await fetch(`${url}/api/v1/query_range?${q}`)).json()) as {
      data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    };
    return r.data.result
      .map((s) => ({ job: s.metric.job, times: s.values.map(([t]) => t) }))
      .sort((x, y) => (x.job < y.job ? -1 : 1));
  };

  it('refuses delete_series without match[] as Prometheus does', async () => {
    const r = await both('delete_series');
    assert.equal(r.pharos.status, 400);
    assert.deepEqual(JSON.parse(r.pharos.body), JSON.parse(r.prometheus.body));
  });

  it('deletes the same samples, and clean_tombstones answers alike', async () => {
    // Both ends are seconds that fall between samples, as a person would pick a range.
    const from = (start + 2 * 60_000 + 1000) / 1000;
    const to = (start + 6 * 60_000 - 1000) / 1000;
    const q = new URLSearchParams({ 'match[]': 'admin_test{job="a"}', start: String(from), end: String(to) });
    const r = await both(`delete_series?${q}`);
    assert.equal(r.pharos.status, 204);
    // Prometheus hides deleted samples at once through tombstones; the lookback then fills the
    // query steps in the gap from the last sample before it, in both alike.
    const [mine, theirs] = [await series(pharos.url), await series(prom.url)];
    assert.deepEqual(mine, theirs);
    const rawSamples = async (url: string) => {
      const q = new URLSearchParams({ query: 'admin_test{job="a"}[15m]', time: String(end / 1000) });
      const body = (await (await fetch(`${url}/api/v1/query?${q}`)).json()) as {
        data: { result: Array<{ values: Array<[number, string]> }> };
      };
      return body.data.result[0].values;
    };
    const kept = await rawSamples(pharos.url);
    assert.equal(kept.length, 41 - 15, 'the 15 samples inside the range are gone');
    assert.deepEqual(kept, await rawSamples(prom.url));
    assert.equal((await both('clean_tombstones')).pharos.status, 204);
    assert.equal((await both('clean_tombstones', 'PUT')).pharos.status, 204);
  });

  it('keeps the deletion across a restart', async () => {
    const before = await series(pharos.url);
    await pharos.proc.stop();
    pharos = await startPharos(EMPTY, { dir: pharos.dir, port: pharos.port, args: ADMIN });
    assert.deepEqual(await series(pharos.url), before);
  });

  it('writes a snapshot that opens as storage, with or without the head', async () => {
    const bad = await both('snapshot?skip_head=maybe');
    assert.equal(bad.pharos.status, 400);
    assert.deepEqual(JSON.parse(bad.pharos.body), JSON.parse(bad.prometheus.body));
    const r = await both('snapshot');
    assert.equal(r.pharos.status, 200);
    const { name } = (JSON.parse(r.pharos.body) as { data: { name: string } }).data;
    assert.match(name, /^\d{8}T\d{6}Z-[0-9a-f]{16}$/);
    assert.match(
      (JSON.parse(r.prometheus.body) as { data: { name: string } }).data.name,
      /^\d{8}T\d{6}Z-[0-9a-f]{16}$/,
    );
    const snap = join(pharos.dir, 'data', 'snapshots', name);
    assert.ok(existsSync(snap), snap);
    const dir = tempDir('pharos-snapshot-');
    dirs.push(dir);
    cpSync(snap, join(dir, 'data'), { recursive: true });
    const copy = await startPharos(EMPTY, { dir });
    try {
      assert.deepEqual(await series(copy.url), await series(pharos.url));
    } finally {
      await copy.proc.stop();
    }
    const skip = await both('snapshot?skip_head=true');
    assert.equal(skip.pharos.status, 200);
  });
});
