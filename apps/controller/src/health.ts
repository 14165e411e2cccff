// /healthz (200 once the informers synced), /readyz (same) and /metrics.
import { listenHttp } from '@knet/component';
import type { Registry } from 'prom-client';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: { host: string; port: number; registry: Registry; healthy: () => boolean }): Promise<HealthServer> {
  const listener = await listenHttp(opts.host, opts.port, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      const ok = path === '/livez' || opts.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok' : 'informers not synced');
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  return { port: listener.port, close: listener.close };
}
