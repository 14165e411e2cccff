// Real-socket helpers for the wire tests: a server per test, dig, raw UDP/TCP clients.
import dgram from 'node:dgram';
import net from 'node:net';
import { execFile } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { createDnsServer, type DnsServerOptions, type UdpPath } from './server.js';

/** The UDP path the wire tests run against: KNET_DNS_UDP_PATH=js|native (package.json runs them with both). */
export const UDP_PATH = (process.env.KNET_DNS_UDP_PATH ?? 'auto') as UdpPath;

export async function startServer(t: ExecutionContext, opts: DnsServerOptions): Promise<{ udpPort: number; tcpPort: number }> {
  const srv = createDnsServer({ udpPath: UDP_PATH, ...opts });
  t.teardown(() => srv.close());
  return srv.listen();
}

/** Runs dig against server:port (127.0.0.1 by default); it exits by itself (tries/timeouts bounded). */
export function dig(port: number, args: string[], server = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/dig', [`@${server}`, '-p', String(port), '+tries=2', '+time=2', ...args], { timeout: 20000 }, (err, stdout) => {
      if (err && !stdout) reject(err);
      else resolve(stdout);
    });
  });
}

/** The rdata column of dig's answer lines for a type. */
export function digRecords(out: string, type: string): string[] {
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f[3] === type)
    .map((f) => f.slice(4).join(' '));
}

export function encodeQuery(name: string, type: RecordType, opts: { id?: number; rd?: boolean; udpPayloadSize?: number; ednsVersion?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals:
      opts.udpPayloadSize !== undefined
        ? [{ name: '.', type: 'OPT', udpPayloadSize: opts.udpPayloadSize, extendedRcode: 0, ednsVersion: opts.ednsVersion ?? 0, flags: 0, flag_do: false, options: [] }]
        : [],
  });
}

/** Sends one datagram and waits for the first reply (or null after timeoutMs). */
export function udpExchange(port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => done(null), timeoutMs);
    const done = (b: Buffer | null): void => {
      clearTimeout(timer);
      s.close();
      resolve(b);
    };
    s.on('message', (m) => done(m));
    s.on('error', () => done(null));
    s.send(msg, port, '127.0.0.1');
  });
}

export async function udpQuery(port: number, msg: Buffer): Promise<DecodedPacket & { rcode: string }> {
  const r = await udpExchange(port, msg);
  if (!r) throw new Error('no UDP reply');
  return dnsPacket.decode(r) as DecodedPacket & { rcode: string };
}

/** Writes all messages on one TCP connection (in one write) and collects `expect` replies. */
export function tcpExchange(port: number, msgs: Buffer[], expect = msgs.length, timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port });
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`got ${replies.length}/${expect} TCP replies`));
    }, timeoutMs);
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('connect', () => {
      c.write(Buffer.concat(msgs.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), m])));
    });
    c.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length >= expect) {
        clearTimeout(timer);
        c.destroy();
        resolve(replies);
      }
    });
  });
}

export async function until(cond: () => boolean | Promise<boolean>, deadlineMs = 5000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}
