import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import dns2 from 'dns2';
import type { DNSSDConfig } from '@pharos/config';
import { DNSDiscoverer } from './dns.js';
import type { TargetGroup } from './target-group.js';
import { Updates } from './test-helpers.js';

const { Packet } = dns2;
type Answer = InstanceType<typeof Packet>['answers'][number];
/** Plain records are what dns2's encoder reads; its typings ask for a toBuffer it does not call. */
const answer = (r: Omit<Answer, 'toBuffer'>) => r as Answer;

/** Records the test server answers with; tests change them between refreshes. */
let srv: Array<{ target: string; port: number }> = [];
let a: string[] = [];
let failing = false;
let server: ReturnType<typeof dns2.createServer>;
let resolver: dns.Resolver;

before(async () => {
  server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      if (failing) {
        response.header.rcode = Packet.RCODE.SERVFAIL;
      } else if (q.type === Packet.TYPE.SRV && q.name === '_web._tcp.example.test') {
        for (const r of srv)
          response.answers.push(
            answer({
              name: q.name,
              type: Packet.TYPE.SRV,
              class: Packet.CLASS.IN,
              ttl: 1,
              priority: 0,
              weight: 0,
              ...r,
            }),
          );
      } else if (q.type === Packet.TYPE.A && q.name === 'hosts.example.test') {
        for (const address of a)
          response.answers.push(
            answer({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 1, address }),
          );
      } else {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
      }
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  resolver = new dns.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${addresses.udp?.port}`]);
});
after(async () => {
  await server.close();
});

function cfg(over: Partial<DNSSDConfig>): DNSSDConfig {
  return { names: [], type: 'SRV', port: 0, refreshInterval: 100, ...over };
}

const addresses = (g: TargetGroup | undefined) => (g?.targets ?? []).map((t) => t.__address__).sort();

describe('dns_sd_configs against a DNS server on 127.0.0.1', () => {
  it('follows SRV records as they are added, changed and removed', async () => {
    srv = [{ target: 'a.example.test', port: 9100 }];
    const errors: string[] = [];
    const d = new DNSDiscoverer(
      cfg({ names: ['_web._tcp.example.test'] }),
      { onError: (m) => errors.push(m) },
      resolver,
    );
    const up = new Updates();
    const ac = new AbortController();
    const done = d.run(up.fn, ac.signal);
    try {
      let g = await up.until((s) => addresses(s.get('_web._tcp.example.test')).length === 1);
      assert.deepEqual(g.get('_web._tcp.example.test')?.targets[0], {
        __address__: 'a.example.test:9100',
        __meta_dns_name: '_web._tcp.example.test',
        __meta_dns_srv_record_target: 'a.example.test',
        __meta_dns_srv_record_port: '9100',
        __meta_dns_mx_record_target: '',
        __meta_dns_ns_record_target: '',
      });
      srv = [
        { target: 'a.example.test', port: 9100 },
        { target: 'b.example.test', port: 9200 },
      ];
      g = await up.until((s) => addresses(s.get('_web._tcp.example.test')).length === 2);
      assert.deepEqual(addresses(g.get('_web._tcp.example.test')), [
        'a.example.test:9100',
        'b.example.test:9200',
      ]);
      // A failing server keeps the last good targets and says why.
      failing = true;
      await up.until(() => errors.length > 0);
      assert.match(errors[0], /error refreshing DNS targets for _web\._tcp\.example\.test \(SRV\)/);
      assert.equal(addresses(up.state.get('_web._tcp.example.test')).length, 2);
      failing = false;
      srv = [];
      await up.until((s) => addresses(s.get('_web._tcp.example.test')).length === 0);
    } finally {
      ac.abort();
      await done;
    }
  });

  it('turns A records into targets with the configured port', async () => {
    a = ['127.0.0.2', '127.0.0.3'];
    const d = new DNSDiscoverer(
      cfg({ names: ['hosts.example.test', 'missing.example.test'], type: 'A', port: 9100 }),
      {},
      resolver,
    );
    const up = new Updates();
    const ac = new AbortController();
    const done = d.run(up.fn, ac.signal);
    try {
      const g = await up.until((s) => addresses(s.get('hosts.example.test')).length === 2);
      assert.deepEqual(addresses(g.get('hosts.example.test')), ['127.0.0.2:9100', '127.0.0.3:9100']);
      assert.equal(
        g.get('missing.example.test')?.targets.length,
        0,
        'a name that does not exist has no targets',
      );
      a = ['127.0.0.3'];
      await up.until((s) => addresses(s.get('hosts.example.test')).join() === '127.0.0.3:9100');
    } finally {
      ac.abort();
      await done;
    }
  });
});
