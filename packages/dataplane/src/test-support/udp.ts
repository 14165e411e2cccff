import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Backend } from '../types.js';

export interface UdpServer {
  socket: Socket;
  port: number;
  /** Datagrams received so far. */
  received: Buffer[];
  backend(over?: Partial<Backend>): Backend;
  close(): Promise<void>;
}

/** A UDP server on 127.0.0.1:0; `reply` maps each datagram to an answer (none if undefined). */
export async function udpServer(reply: (msg: Buffer) => Buffer | string | undefined): Promise<UdpServer> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    received.push(msg);
    const r = reply(msg);
    if (r !== undefined) socket.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const port = socket.address().port;
  let closed = false;
  return {
    socket,
    port,
    received,
    backend: (over = {}) => ({ address: '127.0.0.1', port, ready: true, serving: true, terminating: false, ...over }),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}

export const udpName = (name: string): Promise<UdpServer> => udpServer((m) => `${name}:${m.toString()}`);

export interface Reply {
  msg: string;
  rinfo: RemoteInfo;
}

export interface UdpClient {
  socket: Socket;
  replies: Reply[];
  send(msg: string, host: string, port: number): void;
  close(): Promise<void>;
}

export async function udpClient(): Promise<UdpClient> {
  const socket = createSocket('udp4');
  const replies: Reply[] = [];
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => replies.push({ msg: msg.toString(), rinfo }));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  let closed = false;
  return {
    socket,
    replies,
    send: (msg, host, port) => socket.send(msg, port, host),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}
