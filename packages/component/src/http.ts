// The listen/close dance every app's small status server (healthz, metrics) repeats.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpListener {
  server: Server;
  /** The port bound (the one asked for, or the free one port 0 picked). */
  port: number;
  /** Stops listening and drops open connections (keep-alive scrapers included). */
  close(): Promise<void>;
}

/** Listens on host:port; rejects with the listen error (EADDRINUSE, EACCES...) instead of emitting it. */
export async function listenHttp(host: string, port: number, handler: RequestListener): Promise<HttpListener> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => closeHttp(server),
  };
}

export function closeHttp(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
