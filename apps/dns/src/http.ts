// /metrics, /health and /ready on one listener (CoreDNS serves them from its prometheus, health and ready plugins).
import { listenHttp } from '@knet/component';
import type { Registry } from 'prom-client';
import type { HostPort } from './flags.js';

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export interface StatusServerOptions {
  listen: HostPort;
  registry: Registry;
  /** Runs before each /metrics scrape: the DNS server reports the queries it answered in C since the last one. */
  beforeScrape?: () => void;
  /** What /ready reports; null when ready, else the reason (CoreDNS lists the plugins not ready yet). */
  notReady: () => string | null;
}

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const listener = await listenHttp(opts.listen.host, opts.listen.port, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string): void => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    if (path === '/health') return text(200, 'OK');
    if (path === '/ready') {
      const why = opts.notReady();
      return why === null ? text(200, 'OK') : text(503, why);
    }
    if (path === '/metrics') {
      opts.beforeScrape?.();
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        (err: unknown) => text(500, String(err)),
      );
      return;
    }
    text(404, 'not found\n');
  });
  return { port: listener.port, close: listener.close };
}
