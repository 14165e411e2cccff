// Readiness probes used by the supervisor and `knet status`.
import { connect } from 'node:net';
import { Agent, request } from 'undici';

const agents = new Map<string, Agent>();

/** True when GET url answers 2xx within timeoutMs; `ca` verifies an https server. */
export async function httpReady(url: string, opts: { ca?: string; timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  let dispatcher: Agent | undefined;
  if (opts.ca) {
    dispatcher = agents.get(opts.ca) ?? new Agent({ connect: { ca: opts.ca } });
    agents.set(opts.ca, dispatcher);
  }
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(dispatcher ? { dispatcher } : {}) });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
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
