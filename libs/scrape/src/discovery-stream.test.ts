import assert from 'node:assert/strict';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusConfig } from '@pharos/config';
import { addDiscoveryService, staticGroups, subscribeTargets, TargetDistributor } from '@pharos/discovery';
import { ScrapeManager } from './manager.js';
import { eventually } from '@pharos/discovery/testing';

// Scrape every hour: the loops exist (that is what is checked) without scraping anything.
const config = parsePrometheusConfig(
  `scrape_configs:
  - job_name: fleet
    scrape_interval: 1h
    static_configs: [{targets: [${Array.from({ length: 40 }, (_, i) => `'127.0.0.${i + 1}:1'`).join(', ')}]}]
`,
);

const server = new Server();
const distributor = new TargetDistributor();
let address = '';

before(async () => {
  addDiscoveryService(server, distributor);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
  distributor.applyConfig(config.scrapeConfigs);
  distributor.setGroups('fleet', staticGroups(config.scrapeConfigs[0]));
});
after(() => new Promise<void>((r) => server.tryShutdown(() => r())));

/** A scraper process's wiring: its scrape manager fed by the discovery stream. */
async function scraper(id: string) {
  const manager = new ScrapeManager({ publish: async () => undefined });
  await manager.applyConfig(config);
  let generation = 0;
  const sub = subscribeTargets(
    address,
    id,
    (a) => {
      generation = a.generation;
      manager.applyAssignment(a, () => undefined);
    },
    {},
    100,
  );
  return {
    manager,
    sub,
    generation: () => generation,
    addresses: () => manager.activeTargets().map((t) => t.loop.target.url),
    stop: async () => {
      sub.close();
      await manager.stop();
    },
  };
}

describe('scrapers subscribed to discovery over gRPC', () => {
  it('share the targets, take over a dead scraper’s at once, and give a share to a newcomer', async () => {
    const a = await scraper('scraper-a');
    const b = await scraper('scraper-b');
    try {
      await eventually(
        () =>
          a.addresses().length + b.addresses().length === 40 &&
          a.addresses().length > 0 &&
          b.addresses().length > 0,
        'both scrapers to own targets',
      );
      const all = new Set([...a.addresses(), ...b.addresses()]);
      assert.equal(all.size, 40, 'each target scraped by exactly one scraper');
      assert.deepEqual(distributor.memberIds(), ['scraper-a', 'scraper-b']);
      const aBefore = new Set(a.addresses());

      // b dies: its stream ends and a owns everything.
      await b.stop();
      await eventually(() => a.addresses().length === 40, 'scraper-a to take over');
      for (const u of aBefore) assert.ok(a.addresses().includes(u), 'a kept its own targets');

      // c joins and takes a fair share; a keeps the rest.
      const c = await scraper('scraper-c');
      try {
        await eventually(
          () => c.addresses().length > 0 && a.addresses().length + c.addresses().length === 40,
          'scraper-c to take a share',
        );
        assert.ok(c.addresses().length >= 10 && c.addresses().length <= 30, `share ${c.addresses().length}`);
        assert.equal(new Set([...a.addresses(), ...c.addresses()]).size, 40);
      } finally {
        await c.stop();
      }
    } finally {
      await a.stop();
    }
  });

  it('refuses a subscription without a scraper id', async () => {
    const errors: string[] = [];
    const sub = subscribeTargets(
      address,
      '',
      () => assert.fail('no assignment'),
      { onError: (m) => errors.push(m) },
      10_000,
    );
    await eventually(() => errors.length > 0, 'the error');
    sub.close();
    assert.match(errors[0], /scraper_id is required/);
  });
});
