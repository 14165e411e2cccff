// Forwarding of out-of-zone questions to upstream resolvers over UDP, with a
// per-attempt timeout, retries across upstreams, TCP when an upstream truncates,
// and the TTL-respecting ReplyCache in front.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { dnsPacket } from './dns-packet.js';
import type { DecodedPacket, Question as PacketQuestion } from 'dns-packet';
import { ReplyCache, type CacheOptions, type CachedReply } from './cache.js';
import { FLAG_RD, FLAG_TC, OUR_UDP_PAYLOAD } from './wire.js';

export interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

export class InvalidUpstreamError extends Error {
  readonly reason = 'Invalid';
  constructor(text: string) {
    super(`invalid upstream ${JSON.stringify(text)} (want "ip", "ip:port" or "[ipv6]:port")`);
    this.name = 'InvalidUpstreamError';
  }
}

/** Parses "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353". */
export function parseUpstream(text: string): Upstream {
  const t = text.trim();
  let host = t;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (t.split(':').length === 2) {
    const [h, p] = t.split(':') as [string, string];
    host = h;
    port = /^\d+$/.test(p) ? Number(p) : NaN;
  }
  const family = net.isIPv4(host) ? 4 : net.isIPv6(host.split('%')[0]!) ? 6 : 0;
  if (!family || !(port >= 1 && port <= 65535)) throw new InvalidUpstreamError(text);
  return { host, port, family };
}

export interface ForwarderOptions {
  upstreams: string[];
  cache?: CacheOptions | false;
  /** Time to wait for one upstream reply. Default 2000 ms. */
  timeoutMs?: number;
  /** Total tries, rotating over the upstreams. Default max(2, upstreams.length). */
  attempts?: number;
}

export interface ForwardResult {
  reply: CachedReply;
  fromCache: boolean;
}

interface Pending {
  resolve: (p: DecodedPacket | null) => void;
  name: string;
  type: string;
  timer: NodeJS.Timeout;
}

/** In-flight upstream queries at most; beyond it new ones fail fast (SERVFAIL) instead of piling up. */
const MAX_PENDING = 10000;

export class Forwarder {
  private readonly upstreams: Upstream[];
  private readonly cache: ReplyCache | null;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly pending = new Map<number, Pending>();
  private readonly tcpSockets = new Set<net.Socket>();
  private readonly inflight = new Map<string, Promise<ForwardResult | null>>();
  private next = 0;
  private closed = false;

  constructor(opts: ForwarderOptions) {
    if (!opts.upstreams.length) throw new InvalidUpstreamError('');
    this.upstreams = opts.upstreams.map(parseUpstream);
    this.cache = opts.cache === false ? null : new ReplyCache(opts.cache ?? {});
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.attempts = opts.attempts ?? Math.max(2, this.upstreams.length);
  }

  /** Resolves q upstream (or from cache); null when every attempt failed. */
  async resolve(q: PacketQuestion, checkingDisabled: boolean): Promise<ForwardResult | null> {
    const key = `${ReplyCache.key(q.name, q.type, q.class ?? 'IN')}|${checkingDisabled ? 1 : 0}`;
    const hit = this.cache?.get(key);
    if (hit) return { reply: hit, fromCache: true };
    // Identical questions in flight share one upstream exchange (a burst of pods asking the same name).
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.exchange(key, q, checkingDisabled).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async exchange(key: string, q: PacketQuestion, checkingDisabled: boolean): Promise<ForwardResult | null> {
    for (let i = 0; i < this.attempts && !this.closed; i++) {
      const up = this.upstreams[this.next++ % this.upstreams.length]!;
      let p = await this.viaUdp(up, q, checkingDisabled);
      if (p && p.flag_tc) p = await this.viaTcp(up, q, checkingDisabled);
      if (!p) continue;
      const rcode = (p as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
      // SERVFAIL / REFUSED from one upstream: another may do better.
      if ((rcode === 'SERVFAIL' || rcode === 'REFUSED') && i + 1 < this.attempts) continue;
      this.cache?.put(key, p as DecodedPacket & { rcode?: string });
      return {
        reply: { rcode, answers: p.answers ?? [], authorities: p.authorities ?? [], additionals: (p.additionals ?? []).filter((a) => a.type !== 'OPT') },
        fromCache: false,
      };
    }
    return null;
  }

  private query(id: number, q: PacketQuestion, cd: boolean): Buffer {
    return dnsPacket.encode({
      type: 'query',
      id,
      flags: FLAG_RD | (cd ? 0x10 : 0),
      questions: [{ name: q.name, type: q.type, class: q.class ?? 'IN' }],
      additionals: [{ name: '.', type: 'OPT', udpPayloadSize: OUR_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    });
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('message', (msg) => this.onMessage(msg));
    // Errors (e.g. ICMP unreachable surfacing as ECONNREFUSED) just let the attempt time out.
    s.on('error', () => undefined);
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private onMessage(msg: Buffer): void {
    if (msg.length < 12) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p) return;
    let d: DecodedPacket;
    try {
      d = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const dq = d.questions?.[0];
    // Only a reply to the question we asked (RFC 5452): guards against stray or spoofed datagrams.
    if (d.type !== 'response' || !dq || dq.name.toLowerCase() !== p.name || dq.type !== p.type) return;
    this.settle(msg.readUInt16BE(0), d);
  }

  private settle(id: number, d: DecodedPacket | null): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(d);
  }

  private freeId(): number {
    for (;;) {
      const id = randomInt(0, 0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  private viaUdp(up: Upstream, q: PacketQuestion, cd: boolean): Promise<DecodedPacket | null> {
    if (this.pending.size >= MAX_PENDING) return Promise.resolve(null);
    return new Promise((resolve) => {
      const id = this.freeId();
      const timer = setTimeout(() => this.settle(id, null), this.timeoutMs);
      this.pending.set(id, { resolve, name: q.name.toLowerCase(), type: q.type, timer });
      this.socket(up.family).send(this.query(id, q, cd), up.port, up.host, (err) => {
        if (err) this.settle(id, null);
      });
    });
  }

  private viaTcp(up: Upstream, q: PacketQuestion, cd: boolean): Promise<DecodedPacket | null> {
    return new Promise((resolve) => {
      const id = this.freeId();
      const sock = net.connect({ host: up.host, port: up.port });
      this.tcpSockets.add(sock);
      let buf = Buffer.alloc(0);
      let done = false;
      const finish = (d: DecodedPacket | null): void => {
        if (done) return;
        done = true;
        this.tcpSockets.delete(sock);
        sock.destroy();
        resolve(d);
      };
      sock.setTimeout(this.timeoutMs, () => finish(null));
      sock.on('error', () => finish(null));
      sock.on('close', () => finish(null));
      sock.on('connect', () => {
        const m = this.query(id, q, cd);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(m.length);
        sock.write(Buffer.concat([len, m]));
      });
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        try {
          const d = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          finish(d.id === id && !(d.flags !== undefined && d.flags & FLAG_TC) ? d : null);
        } catch {
          finish(null);
        }
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, null);
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
    this.cache?.clear();
  }
}
