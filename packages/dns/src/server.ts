// The wire server: UDP and TCP listeners in front of a ClusterZone, with
// forwarding of out-of-zone names for allowed clients. Thin by design: the
// records come from the zone, the bytes from dns-packet, and repeated in-zone
// questions are answered from the encoded-reply table until the zone changes. On Linux the UDP socket and
// that table live in C (native/knet_dns.c): repeated questions never enter JS, everything else comes here.
//
// Why dns-packet stays (no hand-written decoder/encoder), measured on the bench:dns data set on a
// shared 2-core box: a cache miss costs decode ≈ 8-12 µs + zone lookup ≈ 3-10 µs + encode ≈ 5 µs;
// a cache hit ≈ 1 µs of JS; and a bare Node UDP responder (no parsing at all) already spends
// ≈ 8 µs CPU per query in recv + send, as much as dnsmasq does in total (≈ 8 µs). With ~95% hits
// the socket is the bottleneck (profile: dgram send ≈ 60% of busy time), so a faster parser would
// only shorten misses (after each zone change).
import dgram from 'node:dgram';
import net from 'node:net';
import dns from 'node:dns';
import { performance } from 'node:perf_hooks';
import { dnsClasses, dnsPacket, dnsRcodes, dnsTypes } from './dns-packet.js';
import type { Answer as PacketRR, DecodedPacket, OptAnswer, Packet, Question as PacketQuestion } from 'dns-packet';
import { ClientAcl } from './acl.js';
import { Forwarder } from './forwarder.js';
import type { CacheOptions } from './cache.js';
import type { ClusterZone } from './zone.js';
import { RCODE_NUMBER, type Rcode } from './records.js';
import { EncodedReplyCache, variantOf, type EncodedReplyCacheOptions, type ReplyTable } from './encoded-reply-cache.js';
import { nativeAddon, nativeUnavailable, type NativeAddon, type NativeHandle } from './native.js';
import { NativeReplyTable } from './native-reply-table.js';
import {
  BADVERS,
  clientPayloadSize,
  EDNS_DO,
  encodeReply,
  FLAG_AA,
  FLAG_CD,
  FLAG_RA,
  FLAG_RD,
  headerOnlyReply,
  OUR_UDP_PAYLOAD,
  peekHeader,
  validName,
  type Header,
} from './wire.js';

/** The subset of a pino logger the server uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ListenAddress {
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0: an ephemeral port (UDP and TCP then share one when both ask for 0). */
  port?: number;
}

export interface ForwardConfig {
  /** "ip", "ip:port" or "[ipv6]:port". */
  upstreams: string[];
  /** CIDRs of clients that may recurse through us; others get REFUSED for out-of-zone names. */
  allowFrom: string[];
  cache?: CacheOptions | false;
  timeoutMs?: number;
  attempts?: number;
}

export interface QueryInfo {
  rcode: Rcode | 'BADVERS' | string;
  /** Query type name ('A', 'SRV', ...), '' when the question could not be read. */
  type: string;
  durationMs: number;
  proto: 'udp' | 'tcp';
  forwarded: boolean;
  /** A forwarded question answered from the forwarder's cache. */
  cacheHit: boolean;
  /** An in-zone question answered with the stored bytes of an earlier identical one (same zone serial); always set by the server. */
  replyCacheHit?: boolean;
  truncated: boolean;
}

/** Queries of one kind the native UDP path answered from the reply table, reported in bulk. */
export interface QueryTally {
  /** What each of them was (durationMs: their mean). */
  info: QueryInfo;
  count: number;
  durationSumMs: number;
  /** How many took up to each bound of `durationBucketsMs`, the last entry past every bound (not cumulative). */
  bucketCounts: number[];
}

/** 'native': the C fast path (listen() fails where it is unavailable); 'js': node:dgram; 'auto': native when it loads. */
export type UdpPath = 'auto' | 'native' | 'js';

/** CoreDNS' plugin.TimeBuckets (0.25 ms × 2^i, 16 bounds), in ms: the default bounds of QueryTally.bucketCounts. */
export const COREDNS_DURATION_BUCKETS_MS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.25 * 2 ** i);

export interface DnsServerOptions {
  zone: ClusterZone;
  udp?: ListenAddress | false;
  tcp?: ListenAddress | false;
  forward?: ForwardConfig | false;
  onQuery?: (info: QueryInfo) => void;
  /**
   * UDP queries the native path answered without JS, by kind, when flushQueryTallies() runs (before each query
   * reported to onQuery, every 100 ms, on close). Without it they go to onQuery one by one (durationMs = mean).
   */
  onQueryTally?: (tally: QueryTally) => void;
  /** Bounds (ms) of QueryTally.bucketCounts; default COREDNS_DURATION_BUCKETS_MS. */
  durationBucketsMs?: readonly number[];
  /** Which UDP implementation serves; default 'auto'. */
  udpPath?: UdpPath;
  log?: Logger;
  /** A TCP connection with no query for this long is closed (RFC 7766 6.2.3). Default 10000 ms. */
  tcpIdleTimeoutMs?: number;
  /** At most this many TCP connections at once. Default 1024. */
  maxTcpConnections?: number;
  /** Replay encoded in-zone replies to repeated questions until the zone changes; on by default, false to turn off. */
  replyCache?: EncodedReplyCacheOptions | false;
}

export interface DnsServer {
  listen(): Promise<{ udpPort: number; tcpPort: number }>;
  close(): Promise<void>;
  /** The UDP implementation in use: 'native' (C) or 'js' (node:dgram). */
  readonly udpPath: 'native' | 'js';
  /** Reports now (to onQueryTally or onQuery) the queries the native path answered since the last report. */
  flushQueryTallies(): void;
}

/** How often hits answered in C are reported when no query through JS reports them first. */
const TALLY_INTERVAL_MS = 100;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const MAX_TCP_MESSAGE = 65535;

type Proto = 'udp' | 'tcp';

/** QueryInfo while a query is worked on; zoneAnswered says the reply came from the zone (so it may be replayed). */
type Work = QueryInfo & { zoneAnswered: boolean };

export function createDnsServer(opts: DnsServerOptions): DnsServer {
  return new Server(opts);
}

class Server implements DnsServer {
  private readonly zone: ClusterZone;
  private readonly log: Logger;
  private readonly acl: ClientAcl | null;
  private readonly forwarder: Forwarder | null;
  private readonly idleMs: number;
  private readonly replyCache: ReplyTable | null;
  readonly udpPath: 'native' | 'js';
  private readonly native: NativeAddon | null;
  /** The C table: the native socket answers from it (with maxBytes 0 when replyCache is false). */
  private readonly nativeTable: NativeReplyTable | null;
  private unsubscribeSerial: () => void = () => undefined;
  private tallyTimer: NodeJS.Timeout | null = null;
  private nativeUdp: NativeHandle | null = null;
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly conns = new Set<net.Socket>();
  private closing = false;

  constructor(private readonly opts: DnsServerOptions) {
    this.zone = opts.zone;
    this.log = opts.log ?? silent;
    this.idleMs = opts.tcpIdleTimeoutMs ?? 10000;
    const want = opts.udpPath ?? 'auto';
    this.native = want === 'js' ? null : nativeAddon();
    if (want === 'native' && !this.native) throw new Error(`udpPath 'native' is unavailable: ${nativeUnavailable()}`);
    this.udpPath = this.native ? 'native' : 'js';
    if (this.native) {
      const bounds = opts.durationBucketsMs ?? COREDNS_DURATION_BUCKETS_MS;
      this.nativeTable = new NativeReplyTable(this.native, opts.replyCache === false ? { maxBytes: 0 } : (opts.replyCache ?? {}), bounds);
      this.replyCache = opts.replyCache === false ? null : this.nativeTable;
    } else {
      this.nativeTable = null;
      this.replyCache = opts.replyCache === false ? null : new EncodedReplyCache(opts.replyCache ?? {});
    }
    if (opts.forward) {
      this.acl = new ClientAcl(opts.forward.allowFrom);
      this.forwarder = new Forwarder(opts.forward);
    } else {
      this.acl = null;
      this.forwarder = null;
    }
  }

  async listen(): Promise<{ udpPort: number; tcpPort: number }> {
    const bothDefault = this.opts.udp === undefined && this.opts.tcp === undefined;
    const udpAt = this.opts.udp === false ? null : (this.opts.udp ?? (bothDefault ? {} : null));
    const tcpAt = this.opts.tcp === false ? null : (this.opts.tcp ?? (bothDefault ? {} : null));
    let udpPort = 0;
    let tcpPort = 0;
    const table = this.nativeTable;
    if (table) {
      // C answers without asking JS for the serial: the zone tells it every change, before the next datagram.
      table.setSerial(this.zone.serial);
      this.unsubscribeSerial = this.zone.onSerialChange((serial) => table.setSerial(serial));
    }
    // dig and stub resolvers retry truncated answers over TCP on the same port: when both
    // ask for an ephemeral port, try to give TCP the port UDP got.
    for (let tries = 0; ; tries++) {
      if (udpAt) udpPort = await this.listenUdp(udpAt.address ?? '127.0.0.1', udpAt.port ?? 0);
      if (!tcpAt) break;
      const want = udpAt && (udpAt.port ?? 0) === 0 && (tcpAt.port ?? 0) === 0 ? udpPort : (tcpAt.port ?? 0);
      try {
        tcpPort = await this.listenTcp(tcpAt.address ?? '127.0.0.1', want);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // The UDP port's TCP twin is taken (on a busy host, often by some outgoing connection): another pair.
        if (code === 'EADDRINUSE' && want === udpPort && want !== 0 && tries < 50) {
          await this.closeUdp();
          continue;
        }
        await this.close();
        throw this.bindError(err, tcpAt, 'tcp');
      }
    }
    if (this.nativeTable && (this.opts.onQuery || this.opts.onQueryTally)) {
      this.tallyTimer = setInterval(() => this.flushQueryTallies(), TALLY_INTERVAL_MS);
      this.tallyTimer.unref();
    }
    this.log.info({ udpPort, tcpPort, zone: this.zone.zone, forwarding: this.forwarder !== null, udpPath: this.udpPath }, 'dns server listening');
    return { udpPort, tcpPort };
  }

  private bindError(err: unknown, at: ListenAddress, proto: Proto): Error {
    const e = err as NodeJS.ErrnoException;
    const where = `${at.address ?? '127.0.0.1'}:${at.port ?? 0}/${proto}`;
    if (e.code === 'EACCES') {
      return new Error(`cannot bind ${where}: permission denied (ports below 1024 need root or net.ipv4.ip_unprivileged_port_start=0)`);
    }
    return new Error(`cannot bind ${where}: ${e.message}`);
  }

  private listenUdp(address: string, port: number): Promise<number> {
    if (this.native) return Promise.resolve(this.listenNativeUdp(this.native, address, port));
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', lookup: ipLiteralLookup });
      const onError = (err: Error): void => {
        sock.close();
        reject(this.bindError(err, { address, port }, 'udp'));
      };
      sock.once('error', onError);
      sock.bind(port, address, () => {
        sock.off('error', onError);
        sock.on('error', (err) => this.log.warn({ err: err.message }, 'udp socket error'));
        sock.on('message', (msg, rinfo) => this.onDatagram(sock, msg, rinfo));
        this.udp = sock;
        resolve(sock.address().port);
      });
    });
  }

  private listenNativeUdp(native: NativeAddon, address: string, port: number): number {
    const acl = this.forwarder && this.acl ? this.acl.records : null;
    // C copies each datagram it cannot answer here: respond() reads msg synchronously only, so one buffer serves all.
    const inbox = Buffer.allocUnsafeSlow(65536);
    try {
      this.nativeUdp = native.udpOpen(this.nativeTable!.handle, address, port, acl, inbox, (length, from, fromPort) => this.onNativeMiss(native, inbox.subarray(0, length), from, fromPort));
    } catch (err) {
      throw this.bindError(err, { address, port }, 'udp');
    }
    return native.udpPort(this.nativeUdp);
  }

  /** A datagram C could not answer from its table: answered here, the reply handed back to C to send. */
  private onNativeMiss(native: NativeAddon, msg: Buffer, address: string, port: number): Buffer | null {
    const reply = this.respond(msg, 'udp', address);
    if (!(reply instanceof Promise)) return this.closing ? null : reply;
    void reply.then((r) => {
      if (r && !this.closing && this.nativeUdp) native.udpSend(this.nativeUdp, r, address, port);
    });
    return null;
  }

  private onDatagram(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const reply = this.respond(msg, 'udp', rinfo.address);
    if (reply === null) return;
    // No send callback: it would cost a closure per packet, and a lost UDP reply is the client's to retry.
    if (!(reply instanceof Promise)) {
      if (!this.closing) sock.send(reply, rinfo.port, rinfo.address);
      return;
    }
    void reply.then((r) => {
      if (r && !this.closing) sock.send(r, rinfo.port, rinfo.address);
    });
  }

  private listenTcp(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer((c) => this.onConnection(c));
      srv.maxConnections = this.opts.maxTcpConnections ?? 1024;
      srv.once('error', reject);
      srv.listen({ host: address, port }, () => {
        srv.off('error', reject);
        srv.on('error', (err) => this.log.warn({ err: err.message }, 'tcp server error'));
        this.tcp = srv;
        resolve((srv.address() as net.AddressInfo).port);
      });
    });
  }

  /** RFC 7766: length-prefixed messages, several per connection, answered as they complete. */
  private onConnection(c: net.Socket): void {
    this.conns.add(c);
    const client = c.remoteAddress ?? '';
    let buf: Buffer = Buffer.alloc(0);
    c.setNoDelay(true);
    c.setTimeout(this.idleMs, () => c.destroy());
    c.on('error', () => c.destroy());
    c.on('close', () => this.conns.delete(c));
    c.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const write = (reply: Buffer | null): void => {
          if (!reply || c.destroyed) return;
          const out = Buffer.allocUnsafe(2 + reply.length);
          out.writeUInt16BE(reply.length, 0);
          reply.copy(out, 2);
          c.write(out);
        };
        const reply = this.respond(msg, 'tcp', client);
        if (reply instanceof Promise) void reply.then(write);
        else write(reply);
      }
    });
  }

  /**
   * One message in, at most one message out; never throws. Synchronous for everything the zone
   * answers (a Promise only when the name is forwarded), so the UDP path has no per-packet promise.
   * msg is read before this returns and never after (the native path hands every miss in one reused buffer).
   */
  respond(msg: Buffer, proto: Proto, client: string): Buffer | null | Promise<Buffer | null> {
    const started = performance.now();
    // No header, or a response (QR=1): nothing we may answer without risking loops.
    if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return null;
    const recursionOk = this.forwarder !== null && this.acl !== null && this.acl.allows(client);
    const cache = this.replyCache;
    const variant = variantOf(proto, recursionOk);
    // Read before the lookup: a reply is stored under the serial of the zone it was computed from.
    const serial = this.zone.serial;
    const hit = cache ? cache.lookup(variant, msg, serial) : null;
    if (hit) {
      const { meta } = hit;
      this.report({ rcode: meta.rcode, type: meta.type, durationMs: performance.now() - started, proto, forwarded: false, cacheHit: false, replyCacheHit: true, truncated: meta.truncated });
      return hit.reply;
    }
    const header = peekHeader(msg)!;
    const info: Work = { rcode: 'NOERROR', type: '', durationMs: 0, proto, forwarded: false, cacheHit: false, replyCacheHit: false, truncated: false, zoneAnswered: false };
    const done = (reply: Buffer | null): Buffer | null => {
      info.durationMs = performance.now() - started;
      this.report(info);
      return reply;
    };
    const failed = (err: unknown): Buffer => {
      this.log.error({ err: (err as Error).message, client, proto }, 'query failed');
      info.rcode = 'SERVFAIL';
      return headerOnlyReply(header, 'SERVFAIL');
    };
    let reply: Buffer | Promise<Buffer>;
    try {
      reply = this.answer(msg, header, proto, recursionOk, info);
    } catch (err) {
      return done(failed(err));
    }
    if (reply instanceof Promise) return reply.catch(failed).then(done);
    // Only what the zone itself answered is replayable; errors are cheap and forwarded answers age.
    if (cache && info.zoneAnswered) cache.keep(variant, msg, serial, reply, { rcode: info.rcode as Rcode, type: info.type, truncated: info.truncated });
    return done(reply);
  }

  private report(info: QueryInfo): void {
    const hook = this.opts.onQuery;
    if (!hook) return;
    // Hits C answered before this query are reported before it.
    if (this.nativeTable) this.flushQueryTallies();
    try {
      hook(info);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'onQuery hook threw');
    }
  }

  private answer(msg: Buffer, header: Header, proto: Proto, recursionOk: boolean, info: Work): Buffer | Promise<Buffer> {
    const fail = (rcode: Rcode): Buffer => {
      info.rcode = rcode;
      return headerOnlyReply(header, rcode);
    };
    if (header.opcode !== 0) return fail('NOTIMP');
    if (header.qdcount !== 1) return fail('FORMERR');
    let req: DecodedPacket;
    try {
      req = dnsPacket.decode(msg);
    } catch {
      return fail('FORMERR');
    }
    const q = req.questions?.[0];
    if (!q || !validName(q.name)) return fail('FORMERR');
    info.type = q.type;
    // dns-packet cannot encode classes it has no name for, so it could not echo the question.
    if ((q.class ?? 'IN').startsWith('UNKNOWN_')) return fail('REFUSED');
    const opts = (req.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
    if (opts.length > 1) return fail('FORMERR');
    const opt = opts[0];
    const maxSize = proto === 'tcp' ? MAX_TCP_MESSAGE : clientPayloadSize(opt?.udpPayloadSize);
    const replyOpt = (extendedRcode = 0): OptAnswer[] =>
      opt ? [{ name: '.', type: 'OPT', udpPayloadSize: OUR_UDP_PAYLOAD, extendedRcode, ednsVersion: 0, flags: opt.flags & EDNS_DO, flag_do: (opt.flags & EDNS_DO) !== 0, options: [] }] : [];
    const base = { type: 'response' as const, id: header.id, questions: [q] };
    const send = (p: Packet & { flags: number }): Buffer => {
      const { buf, truncated } = encodeReply(p, { maxSize });
      info.truncated = truncated;
      return buf;
    };
    if (opt && opt.ednsVersion !== 0) {
      // RFC 6891 6.1.3: an unknown EDNS version gets BADVERS (extended rcode 1, header rcode 0).
      info.rcode = 'BADVERS';
      return send({ ...base, flags: header.flags & FLAG_RD, additionals: replyOpt(BADVERS >> 4) });
    }
    const qtype = dnsTypes.toType(q.type);
    const qclass = dnsClasses.toClass(q.class ?? 'IN');
    const ans = this.zone.resolve({ name: q.name, type: qtype, class: qclass });
    const ra = recursionOk ? FLAG_RA : 0;
    if (ans.inZone) {
      info.rcode = ans.rcode;
      info.zoneAnswered = true;
      return send({
        ...base,
        flags: (header.flags & (FLAG_RD | FLAG_CD)) | ra | (ans.authoritative ? FLAG_AA : 0) | RCODE_NUMBER[ans.rcode],
        answers: ans.answers as PacketRR[],
        authorities: ans.authority as PacketRR[],
        additionals: [...(ans.additional as PacketRR[]), ...replyOpt()],
      });
    }
    if (!recursionOk || !this.forwarder) return fail('REFUSED');
    return this.forward(q as PacketQuestion, header, ra, info, send, replyOpt);
  }

  private async forward(q: PacketQuestion, header: Header, ra: number, info: QueryInfo, send: (p: Packet & { flags: number }) => Buffer, replyOpt: () => OptAnswer[]): Promise<Buffer> {
    info.forwarded = true;
    const base = { type: 'response' as const, id: header.id, questions: [q] };
    const res = await this.forwarder!.resolve(q, (header.flags & FLAG_CD) !== 0);
    if (!res) {
      this.log.warn({ name: q.name, type: q.type }, 'no upstream answered');
      info.rcode = 'SERVFAIL';
      return send({ ...base, flags: (header.flags & FLAG_RD) | ra | RCODE_NUMBER.SERVFAIL, additionals: replyOpt() });
    }
    info.cacheHit = res.fromCache;
    // The cache is case-blind: give records owned by the question name the client's spelling back.
    const asked = q.name.toLowerCase();
    const respell = (list: PacketRR[]): PacketRR[] => list.map((rr) => (rr.name.toLowerCase() === asked && rr.name !== q.name ? { ...rr, name: q.name } : rr));
    const rcodeNum = rcodeNumber(res.reply.rcode);
    info.rcode = res.reply.rcode;
    return send({
      ...base,
      flags: (header.flags & (FLAG_RD | FLAG_CD)) | ra | rcodeNum,
      answers: respell(res.reply.answers),
      authorities: res.reply.authorities,
      additionals: [...res.reply.additionals, ...replyOpt()],
    });
  }

  flushQueryTallies(): void {
    if (!this.nativeTable) return;
    const { onQuery, onQueryTally } = this.opts;
    for (const t of this.nativeTable.takeTallies()) {
      const info: QueryInfo = { rcode: t.meta.rcode, type: t.meta.type, durationMs: t.durationSumMs / t.count, proto: 'udp', forwarded: false, cacheHit: false, replyCacheHit: true, truncated: t.meta.truncated };
      try {
        if (onQueryTally) onQueryTally({ info, count: t.count, durationSumMs: t.durationSumMs, bucketCounts: t.bucketCounts });
        else if (onQuery) for (let i = 0; i < t.count; i++) onQuery({ ...info });
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'onQuery hook threw');
      }
    }
  }

  private async closeUdp(): Promise<void> {
    const native = this.nativeUdp;
    this.nativeUdp = null;
    if (native) this.native!.udpClose(native);
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.forwarder?.close();
    if (this.tallyTimer) clearInterval(this.tallyTimer);
    this.tallyTimer = null;
    this.unsubscribeSerial();
    await this.closeUdp();
    this.flushQueryTallies();
    this.replyCache?.clear();
    const tcp = this.tcp;
    this.tcp = null;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }
}

/**
 * dgram resolves the address of every send through dns.lookup, which answers IP literals a tick
 * later: a closure and a nextTick per reply (~10% of a cached answer's CPU). Replies go to the
 * sender's address, always a literal, so answer at once; names still go to dns.lookup.
 */
const ipLiteralLookup: NonNullable<dgram.SocketOptions['lookup']> = (hostname, options, callback) => {
  const family = net.isIP(hostname);
  if (family !== 0) return callback(null, hostname, family);
  dns.lookup(hostname, options, callback);
};

function rcodeNumber(name: string): number {
  const n = dnsRcodes.toRcode(name);
  return Number.isInteger(n) && n >= 0 && n <= 15 ? n : RCODE_NUMBER.SERVFAIL;
}
