import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConsulSDConfig } from '@pharos/config';
import { ConsulDiscoverer } from './consul.js';
import { FakeConsul } from './testing/fake-consul.js';
import { Updates } from './test-helpers.js';

const consul = new FakeConsul();
let address = '';
before(async () => {
  await new Promise<void>((r) => consul.server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(consul.server.address() as AddressInfo).port}`;
});
after(async () => {
  consul.change(() => undefined);
  consul.server.closeAllConnections();
  await new Promise<void>((r) => consul.server.close(() => r()));
});

function cfg(over: Partial<ConsulSDConfig>): ConsulSDConfig {
  return {
    server: address,
    pathPrefix: '',
    datacenter: '',
    partition: '',
    scheme: 'http',
    services: [],
    tags: [],
    nodeMeta: {},
    tagSeparator: ',',
    allowStale: true,
    refreshInterval: 50,
    filter: '',
    http: { tls: { insecureSkipVerify: false }, followRedirects: true, enableHTTP2: true },
    ...over,
  };
}

describe('consul_sd_configs against a Consul API stand-in', () => {
  it('follows services and instances through blocking queries', async () => {
    consul.change(() => {
      consul.services.set('web', [
        { id: 'web-1', node: 'n1', address: '127.0.0.5', port: 8080, tags: ['prod'], status: 'passing' },
      ]);
      consul.services.set('db', [
        { id: 'db-1', node: 'n2', address: '', port: 5432, tags: [], status: 'passing' },
      ]);
    });
    const d = new ConsulDiscoverer(cfg({ services: ['web'], token: { value: 't0k' } }));
    const up = new Updates();
    const ac = new AbortController();
    const done = d.run(up.fn, ac.signal);
    const addrs = () =>
      (up.state.get('web')?.targets ?? [])
        .map((t) => t.__address__)
        .sort()
        .join(',');
    try {
      await up.until(() => addrs() === '127.0.0.5:8080');
      assert.deepEqual(up.state.get('web')?.targets[0], {
        __address__: '127.0.0.5:8080',
        __meta_consul_address: '10.0.0.1',
        __meta_consul_dc: 'dc1',
        __meta_consul_health: 'passing',
        __meta_consul_node: 'n1',
        __meta_consul_service: 'web',
        __meta_consul_service_address: '127.0.0.5',
        __meta_consul_service_id: 'web-1',
        __meta_consul_service_port: '8080',
        __meta_consul_tags: ',prod,',
        __meta_consul_metadata_rack: 'r1',
        __meta_consul_service_metadata_app_version: '2',
        __meta_consul_tagged_address_lan: '10.0.0.1',
      });
      assert.ok(!up.state.has('db'), 'only the configured services');
      // Added and changed: a second instance, and the first one's health.
      consul.change(() =>
        consul.services.set('web', [
          { id: 'web-1', node: 'n1', address: '127.0.0.5', port: 8080, tags: ['prod'], status: 'critical' },
          { id: 'web-2', node: 'n2', address: '127.0.0.6', port: 8080, tags: ['prod'], status: 'passing' },
        ]),
      );
      await up.until(() => addrs() === '127.0.0.5:8080,127.0.0.6:8080');
      assert.equal(
        up.state.get('web')?.targets.find((t) => t.__meta_consul_service_id === 'web-1')
          ?.__meta_consul_health,
        'critical',
      );
      // Removed: the service leaves the catalog.
      consul.change(() => consul.services.delete('web'));
      await up.until(() => up.state.get('web')?.targets.length === 0);
      const blocking = consul.requests.filter(
        (r) => r.startsWith('/v1/health/service/web?') && /index=[1-9]/.test(r),
      );
      assert.ok(blocking.length > 0, 'blocking queries carry the last X-Consul-Index');
      assert.ok(
        blocking.every((r) => r.includes('dc=dc1') && r.includes('wait=2m') && r.includes('token=t0k')),
        blocking.join('\n'),
      );
    } finally {
      ac.abort();
      await done;
    }
  });

  it('filters by tag and keeps the last targets while Consul is unreachable', async () => {
    consul.change(() =>
      consul.services.set('api', [
        { id: 'a1', node: 'n1', address: '127.0.0.7', port: 1, tags: ['canary'], status: 'passing' },
        { id: 'a2', node: 'n1', address: '127.0.0.8', port: 1, tags: ['stable'], status: 'passing' },
      ]),
    );
    const d = new ConsulDiscoverer(cfg({ tags: ['stable'], tagSeparator: ';' }));
    const up = new Updates();
    const ac = new AbortController();
    const done = d.run(up.fn, ac.signal);
    try {
      await up.until((s) => s.get('api')?.targets.length === 1);
      assert.equal(up.state.get('api')?.targets[0].__address__, '127.0.0.8:1');
      assert.equal(up.state.get('api')?.targets[0].__meta_consul_tags, ';stable;');
    } finally {
      ac.abort();
      await done;
    }
    const errors: string[] = [];
    const down = new ConsulDiscoverer(cfg({ server: '127.0.0.1:1', datacenter: 'dc1' }), {
      onError: (m) => errors.push(m),
    });
    const ac2 = new AbortController();
    const done2 = down.run(() => assert.fail('no targets from an unreachable server'), ac2.signal);
    await new Updates().until(() => errors.length > 0).catch(() => undefined);
    ac2.abort();
    await done2;
    assert.match(errors[0] ?? '', /error refreshing service list: .*ECONNREFUSED/);
  });
});
