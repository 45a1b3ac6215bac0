import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { ExpositionParser } from '@pharos/exposition';
import { STALE_NAN } from '@pharos/model';
import { MemoryQueryable } from '@pharos/tsdb';
import { registerFederate } from './federate.js';

describe('/federate', () => {
  it('writes the newest sample per series, skipping stale and old ones, with external labels', async () => {
    const q = new MemoryQueryable();
    q.add({ __name__: 'up', job: 'node', instance: 'a:9100' }, [1000, 2000], [1, 0]);
    q.add({ __name__: 'up', job: 'gone', instance: 'b:9100' }, [1000, 2000], Float64Array.of(1, STALE_NAN));
    q.add({ __name__: 'http_requests_total', job: 'api', path: 'say "hi"\n' }, [1500], [1e6]);
    q.add({ __name__: 'up', job: 'old', instance: 'c:9100' }, [1], [1]);
    const app = Fastify();
    registerFederate(app, {
      queryable: q,
      lookbackDelta: 300_000,
      externalLabels: () => ({ dc: 'eu1', job: 'ignored-when-present' }),
      now: () => 301_000,
    });
    const r = await app.inject({ url: '/federate?match[]=up&match[]={__name__=~"http.*"}' });
    assert.equal(
      r.body,
      [
        '# TYPE http_requests_total untyped',
        'http_requests_total{dc="eu1",instance="",job="api",path="say \\"hi\\"\\n"} 1e+06 1500',
        '# TYPE up untyped',
        'up{dc="eu1",instance="a:9100",job="node"} 0 2000',
        '',
      ].join('\n'),
    );
    // Our own parser reads it back, as a Prometheus scraping /federate would.
    const p = new ExpositionParser(r.body);
    let samples = 0;
    for (let e = p.next(); e !== null; e = p.next()) if (e === 'series') samples++;
    assert.equal(samples, 2);
    await app.close();
  });
});
