/** Splits "host:port" (or ":port", "[::1]:port") as Go's net.SplitHostPort. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(addr)}: want host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid listen address ${JSON.stringify(addr)}: port out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
