import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { LookupOneOptions } from 'node:dns';
import { AffinityTable, reconcileAffinity } from './affinity.js';
import { firstChoice } from './backend-choice.js';
import { BackendPool, targetKey, type Target } from './backend-pool.js';
import { ipFamily } from './ip.js';
import { proxyHeaderV2 } from './proxy-protocol.js';
import { Counters, type Settings } from './settings.js';
import type { ServiceEntry } from './types.js';

/** Every address we send to is an IP literal: answer at once instead of a dns.lookup tick per datagram. */
function literalLookup(
  hostname: string,
  _options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, hostname, ipFamily(hostname) || 4);
}

/** Datagrams held per flow while its upstream socket connects. */
const MAX_PENDING = 64;

/**
 * A UDP listener on one VIP:port. Each client address:port is a flow with its own
 * connected upstream socket; replies go out of the VIP socket, so the client sees
 * them come from the address and port it sent to.
 */
export class UdpListener {
  readonly counters = new Counters();
  readonly flows = new Map<string, UdpFlow>();
  pool: BackendPool;
  affinity: AffinityTable | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  private constructor(
    public entry: ServiceEntry,
    readonly socket: Socket,
    readonly settings: Settings,
  ) {
    this.pool = new BackendPool(entry.backends, entry.localOnly);
    if (entry.affinity) this.affinity = new AffinityTable(entry.affinity.timeoutSeconds * 1000, settings.now);
    const every = Math.min(Math.max(Math.floor(settings.udpIdleMs / 4), 10), 5000);
    this.sweeper = setInterval(() => this.expire(), every);
    this.sweeper.unref();
  }

  static open(entry: ServiceEntry, settings: Settings): Promise<UdpListener> {
    const socket = createSocket({ type: ipFamily(entry.address) === 6 ? 'udp6' : 'udp4', lookup: literalLookup });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ address: entry.address, port: entry.port, exclusive: true }, () => {
        socket.off('error', onError);
        const l = new UdpListener(entry, socket, settings);
        socket.on('error', (err) => settings.log.warn({ key: l.entry.key, err: err.message }, 'udp socket error'));
        socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => l.receive(msg, rinfo));
        resolve(l);
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  update(entry: ServiceEntry): void {
    this.entry = entry;
    this.pool = new BackendPool(entry.backends, entry.localOnly, this.pool);
    this.affinity = reconcileAffinity(this.affinity, entry.affinity, this.settings.now);
    // Like kube-proxy flushing conntrack for a removed UDP endpoint: the next datagram picks a live backend.
    if (this.flows.size === 0) return;
    const listed = new Set(entry.backends.map((b) => targetKey(b.address, b.port)));
    for (const f of this.flows.values()) if (!listed.has(f.target.key)) f.close();
  }

  retire(): void {
    void this.close();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    clearInterval(this.sweeper);
    this.affinity?.close();
    for (const f of this.flows.values()) f.close();
    this.closing = new Promise((resolve) => this.socket.close(() => resolve()));
    return this.closing;
  }

  liveBytes(): { bytesIn: number; bytesOut: number } {
    return { bytesIn: this.counters.bytesIn, bytesOut: this.counters.bytesOut };
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let f = this.flows.get(key);
    if (f === undefined) {
      f = this.openFlow(key, rinfo);
      if (f === undefined) {
        this.counters.failures++;
        return;
      }
    }
    this.counters.udpPackets++;
    this.counters.bytesIn += msg.length;
    f.send(msg);
  }

  private openFlow(key: string, rinfo: RemoteInfo): UdpFlow | undefined {
    if (this.closing) return undefined;
    const t = firstChoice(this.pool, this.affinity, this.affinity === undefined ? undefined : rinfo.address);
    if (t === undefined) return undefined;
    if (this.flows.size >= this.settings.maxUdpFlows) {
      // Map iteration is insertion order: the first flow is the oldest.
      this.flows.values().next().value?.close();
    }
    const header =
      this.entry.proxyProtocol === 'v2'
        ? proxyHeaderV2(
            { sourceAddress: rinfo.address, sourcePort: rinfo.port, destinationAddress: this.entry.address, destinationPort: this.port },
            'UDP',
          )
        : undefined;
    const f = new UdpFlow(this, key, rinfo.address, rinfo.port, t, header);
    this.flows.set(key, f);
    this.counters.connections++;
    return f;
  }

  private expire(): void {
    const deadline = Date.now() - this.settings.udpIdleMs;
    for (const f of this.flows.values()) if (f.lastSeen <= deadline) f.close();
  }
}

/** One client address:port and its connected upstream socket. */
class UdpFlow {
  private readonly up: Socket;
  private pending: Buffer[] | undefined = [];
  private closed = false;
  lastSeen = Date.now();

  constructor(
    private readonly l: UdpListener,
    private readonly key: string,
    private readonly clientAddress: string,
    private readonly clientPort: number,
    readonly target: Target,
    private readonly header: Buffer | undefined,
  ) {
    const up = createSocket({ type: target.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup });
    this.up = up;
    up.on('error', (err: NodeJS.ErrnoException) => {
      // ECONNREFUSED (ICMP port unreachable) and the like: forget the flow so the next datagram picks again.
      l.counters.connectErrors++;
      l.settings.log.debug({ key: l.entry.key, backend: target.key, err: err.message }, 'udp backend error');
      this.close();
    });
    up.on('message', (reply: Buffer) => {
      this.lastSeen = Date.now();
      l.counters.bytesOut += reply.length;
      l.socket.send(reply, this.clientPort, this.clientAddress);
    });
    up.connect(target.port, target.address, () => {
      const queued = this.pending;
      this.pending = undefined;
      if (this.closed || queued === undefined) return;
      for (const m of queued) this.send(m);
    });
  }

  send(msg: Buffer): void {
    this.lastSeen = Date.now();
    if (this.pending !== undefined) {
      if (this.pending.length < MAX_PENDING) this.pending.push(msg);
      return;
    }
    if (this.header !== undefined) this.up.send([this.header, msg]);
    else this.up.send(msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    if (this.l.flows.get(this.key) === this) this.l.flows.delete(this.key);
    this.up.close();
  }
}
