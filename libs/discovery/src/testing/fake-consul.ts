import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

/**
 * A stand-in for Consul's HTTP API: /v1/agent/self, /v1/catalog/services,
 * /v1/health/service/<name>, with X-Consul-Index blocking queries as Consul answers them, and
 * /v1/agent/service/register and /deregister/<id> for services that announce themselves.
 */
export class FakeConsul {
  index = 1;
  services = new Map<
    string,
    Array<{
      id: string;
      node: string;
      address: string;
      port: number;
      tags: string[];
      status: string;
      meta?: Record<string, string>;
    }>
  >();
  readonly requests: string[] = [];
  private waiting: Array<() => void> = [];
  readonly server = createServer((req, res) => this.handle(req, res));

  change(fn: () => void): void {
    fn();
    this.index++;
    for (const w of this.waiting.splice(0)) w();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(
      `${url.pathname}?${url.searchParams.toString()} token=${req.headers['x-consul-token'] ?? ''}`,
    );
    const index = Number(url.searchParams.get('index') ?? '0');
    if (index > 0 && index >= this.index) {
      // Blocking query: answer on the next change, or when the wait runs out (kept short here).
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2_000);
        this.waiting.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': String(this.index) });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'PUT' && url.pathname === '/v1/agent/service/register') {
      const body = JSON.parse(await readBody(req)) as {
        ID?: string;
        Name: string;
        Address?: string;
        Port?: number;
        Tags?: string[];
        Meta?: Record<string, string>;
      };
      const id = body.ID ?? body.Name;
      this.change(() => {
        const list = (this.services.get(body.Name) ?? []).filter((i) => i.id !== id);
        list.push({
          id,
          node: 'agent',
          address: body.Address ?? '',
          port: body.Port ?? 0,
          tags: body.Tags ?? [],
          status: 'passing',
          meta: body.Meta ?? {},
        });
        this.services.set(body.Name, list);
      });
      return send(null);
    }
    const dereg = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(url.pathname);
    if (req.method === 'PUT' && dereg) {
      this.change(() => {
        for (const [name, list] of this.services)
          this.services.set(
            name,
            list.filter((i) => i.id !== dereg[1]),
          );
      });
      return send(null);
    }
    if (url.pathname === '/v1/agent/self') return send({ Config: { Datacenter: 'dc1', NodeName: 'agent' } });
    if (url.pathname === '/v1/catalog/services')
      return send(
        Object.fromEntries(
          [...this.services].map(([n, inst]) => [n, [...new Set(inst.flatMap((i) => i.tags))]]),
        ),
      );
    const m = /^\/v1\/health\/service\/(.+)$/.exec(url.pathname);
    if (m) {
      const tag = url.searchParams.getAll('tag');
      const inst = (this.services.get(m[1]) ?? []).filter((i) => tag.every((t) => i.tags.includes(t)));
      return send(
        inst.map((i) => ({
          Node: {
            Node: i.node,
            Address: '10.0.0.1',
            Datacenter: 'dc1',
            TaggedAddresses: { lan: '10.0.0.1' },
            Meta: { rack: 'r1' },
          },
          Service: {
            ID: i.id,
            Service: m[1],
            Tags: i.tags,
            Address: i.address,
            Port: i.port,
            Meta: i.meta ?? { 'app-version': '2' },
          },
          Checks: [{ Status: 'passing' }, { Status: i.status }],
        })),
      );
    }
    res.writeHead(404).end();
  }
}

/** A FakeConsul listening on 127.0.0.1; `address` is its host:port. */
export async function startFakeConsul(): Promise<{
  consul: FakeConsul;
  address: string;
  close(): Promise<void>;
}> {
  const consul = new FakeConsul();
  await new Promise<void>((r) => consul.server.listen(0, '127.0.0.1', r));
  return {
    consul,
    address: `127.0.0.1:${(consul.server.address() as AddressInfo).port}`,
    close: async () => {
      consul.change(() => undefined);
      consul.server.closeAllConnections();
      await new Promise<void>((r) => consul.server.close(() => r()));
    },
  };
}
