// Readiness probes used by the supervisor and `knet run`.
// node:http rather than undici: the supervisor stays resident for the cluster's life, and undici
// would add ~15 MiB to it for a few GETs at start (measured: 45 → 60 MiB RSS).
import { connect } from 'node:net';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';

// Keep-alive: a component polled every few ms while it starts answers on one connection, not one
// TLS handshake per poll.
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
const httpsAgents = new Map<string, HttpsAgent>();

function agentFor(url: URL, ca: string | undefined): HttpAgent | HttpsAgent {
  if (url.protocol !== 'https:') return httpAgent;
  const key = ca ?? '';
  let agent = httpsAgents.get(key);
  if (!agent) {
    // One secure context: with `ca` alone, every connection attempt would parse the CA again.
    agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ...(ca ? { secureContext: createSecureContext({ ca }) } : {}) });
    httpsAgents.set(key, agent);
  }
  return agent;
}

/** True when GET url answers 2xx within timeoutMs; `ca` verifies an https server. */
export function httpReady(url: string, opts: { ca?: string; timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return resolve(false);
    }
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { agent: agentFor(u, opts.ca), timeout: timeoutMs }, (res) => {
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
      res.resume();
      res.once('end', () => resolve(ok));
      res.once('error', () => resolve(false));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** True when a TCP connection to host:port succeeds within timeoutMs. */
export function tcpReady(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
