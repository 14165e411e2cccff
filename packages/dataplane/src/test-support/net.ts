import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import type { Backend } from '../types.js';

/** A TCP server on 127.0.0.1:0 that tracks its sockets so close() ends them all. */
export interface TestServer {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  /** Connections accepted so far. */
  accepted: number;
  backend(over?: Partial<Backend>): Backend;
  close(): Promise<void>;
}

export async function tcpServer(onConnection: (s: Socket) => void, host = '127.0.0.1'): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true });
  const ts: TestServer = {
    server,
    port: 0,
    sockets,
    accepted: 0,
    backend: (over = {}) => ({ address: host, port: ts.port, ready: true, serving: true, terminating: false, ...over }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) resolve();
        else server.close(() => resolve());
      }),
  };
  server.on('connection', (s: Socket) => {
    ts.accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onConnection(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  ts.port = (server.address() as AddressInfo).port;
  return ts;
}

/** Answers every connection with its name and closes. */
export const nameServer = (name: string): Promise<TestServer> => tcpServer((s) => s.end(name));

/** Echoes every byte; half-closes when the client does. */
export const echoServer = (): Promise<TestServer> => tcpServer((s) => s.pipe(s));

export interface Exchange {
  data: Buffer;
  error?: NodeJS.ErrnoException;
}

/** Connects, sends `send` then FIN, and collects what comes back until the peer closes. */
export function exchange(host: string, port: number, send?: string | Buffer): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect({ host, port, allowHalfOpen: true });
    let error: NodeJS.ErrnoException | undefined;
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => (error = e));
    s.on('connect', () => {
      if (send !== undefined) s.write(send);
      s.end();
    });
    s.on('close', () => resolve({ data: Buffer.concat(chunks), ...(error ? { error } : {}) }));
  });
}

/** An open client socket plus everything received on it so far. */
export interface Client {
  socket: Socket;
  received(): string;
  closed: boolean;
  /** The peer sent FIN (the socket stays half-open: allowHalfOpen). */
  ended: boolean;
  error?: NodeJS.ErrnoException;
  close(): void;
}

export function openClient(host: string, port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port, allowHalfOpen: true });
    const c: Client = {
      socket,
      received: () => Buffer.concat(chunks).toString(),
      closed: false,
      ended: false,
      close: () => socket.destroy(),
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (c.error = e));
    socket.on('end', () => (c.ended = true));
    socket.on('close', () => (c.closed = true));
    socket.once('connect', () => resolve(c));
    socket.once('error', reject);
  });
}

/** Polls `check` until it returns true, failing after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A listener address unique to this test process: 127.97.<pid-derived>.<n>. */
let next = 1;
export function vip(): string {
  const third = (process.pid % 250) + 1;
  const n = next++;
  return `127.97.${third}.${n}`;
}
