// The two small HTTP endpoints kube-proxy has: healthz (/healthz, /livez) and metrics (/metrics).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeHttp, listenHttp } from '@knet/component';
import type { Registry } from 'prom-client';
import type { SyncHealth } from './sync-health.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * /healthz and /livez as kube-proxy: 200 while syncs keep up, 503 with the reason when they stall. /readyz (ours):
 * 200 once the first full sync is done, for supervisors that must not call the proxy ready before it serves.
 */
export function healthzHandler(health: SyncHealth): Handler {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/livez' && path !== '/readyz')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    if (path === '/readyz') {
      res.writeHead(health.synced ? 200 : 503, { 'content-type': 'text/plain' }).end(health.synced ? 'ok\n' : 'waiting for the first sync\n');
      return;
    }
    const r = health.report();
    res.writeHead(r.healthy ? 200 : 503, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' }).end(JSON.stringify(r) + '\n');
  };
}

/** `more` adds series the registry does not hold (text in the same format), after the registry's. */
export function metricsHandler(registry: Registry, more: () => string = () => ''): Handler {
  return (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body + more()),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  };
}

/** Listens on host:port (port 0 picks one); resolves to the server and the address it got. */
export async function serve(address: string, handler: Handler): Promise<{ server: Server; address: string }> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const { server, port } = await listenHttp(host, Number(address.slice(colon + 1)), handler);
  return { server, address: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}

export const closeServer: (s: Server) => Promise<void> = closeHttp;
