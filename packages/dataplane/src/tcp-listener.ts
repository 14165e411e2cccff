import { connect, createServer, type Server, type Socket } from 'node:net';
import { AffinityTable } from './affinity.js';
import { BackendPool, targetKey, type Target } from './backend-pool.js';
import { proxyHeaderV1, proxyHeaderV2 } from './proxy-protocol.js';
import { Counters, type Settings } from './settings.js';
import type { ServiceEntry } from './types.js';

const connectTimeoutError = (ms: number): Error =>
  Object.assign(new Error(`connect ETIMEDOUT after ${ms} ms`), { code: 'ETIMEDOUT' });
const removedError = (): Error => Object.assign(new Error('backend removed while connecting'), { code: 'EREMOVED' });

const code = (err: Error): string | undefined => (err as NodeJS.ErrnoException).code;

/** A TCP listener on one VIP:port that splices each client connection to a backend. */
export class TcpListener {
  readonly counters = new Counters();
  /** Client connections accepted and not yet closed. */
  readonly conns = new Set<TcpConnection>();
  pool: BackendPool;
  affinity: AffinityTable | undefined;
  private listed: Set<string>;
  private readonly drainTimers = new Set<NodeJS.Timeout>();
  private retired = false;
  /** Settles once the server is closed and its last connection is gone. */
  private readonly closedEvent: Promise<void>;

  private constructor(
    public entry: ServiceEntry,
    private readonly server: Server,
    readonly settings: Settings,
  ) {
    this.pool = new BackendPool(entry.backends, entry.localOnly);
    this.listed = new Set(entry.backends.map((b) => targetKey(b.address, b.port)));
    if (entry.affinity) this.affinity = new AffinityTable(entry.affinity.timeoutSeconds * 1000, settings.now);
    this.closedEvent = new Promise((resolve) => server.once('close', () => resolve()));
  }

  /** Binds; rejects with the listen error (EADDRINUSE, EACCES...). */
  static open(entry: ServiceEntry, settings: Settings): Promise<TcpListener> {
    // pauseOnConnect: nothing is read from the client until a backend is connected.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const l = new TcpListener(entry, server, settings);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        l.affinity?.close();
        reject(err);
      };
      server.once('error', onError);
      server.on('connection', (client: Socket) => l.accept(client));
      server.listen({ host: entry.address, port: entry.port, exclusive: true, backlog: settings.backlog }, () => {
        server.off('error', onError);
        // After binding, errors are accept failures (EMFILE...): log them and keep serving.
        server.on('error', (err) => settings.log.warn({ key: l.entry.key, err: err.message }, 'accept failed'));
        resolve(l);
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.entry.port;
  }

  /** Swaps backends and settings in place; connections to backends no longer listed close after drainMs. */
  update(entry: ServiceEntry): void {
    this.entry = entry;
    this.pool = new BackendPool(entry.backends, entry.localOnly, this.pool);
    this.listed = new Set(entry.backends.map((b) => targetKey(b.address, b.port)));
    if (entry.affinity) {
      if (this.affinity) this.affinity.setTimeout(entry.affinity.timeoutSeconds * 1000);
      else this.affinity = new AffinityTable(entry.affinity.timeoutSeconds * 1000, this.settings.now);
    } else if (this.affinity) {
      this.affinity.close();
      this.affinity = undefined;
    }
    const doomed: TcpConnection[] = [];
    for (const c of this.conns) if (c.target !== undefined && !this.listed.has(c.target.key)) doomed.push(c);
    if (doomed.length > 0) this.drainLater(doomed);
  }

  private drainLater(conns: TcpConnection[]): void {
    const timer = setTimeout(() => {
      this.drainTimers.delete(timer);
      for (const c of conns) c.destroy();
    }, this.settings.drainMs);
    timer.unref();
    this.drainTimers.add(timer);
  }

  /** Stops accepting now; established connections are closed after drainMs. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.server.close();
    this.affinity?.close();
    if (this.conns.size > 0) this.drainLater([...this.conns]);
  }

  /** Stops accepting and closes every connection now. */
  close(): Promise<void> {
    this.retire();
    for (const t of this.drainTimers) clearTimeout(t);
    this.drainTimers.clear();
    for (const c of this.conns) c.destroy();
    return this.closedEvent;
  }

  /** Settles once the server is closed and its last connection has gone. */
  closedPromise(): Promise<void> {
    return this.closedEvent;
  }

  liveBytes(): { bytesIn: number; bytesOut: number } {
    let bytesIn = this.counters.bytesIn;
    let bytesOut = this.counters.bytesOut;
    for (const c of this.conns) {
      bytesIn += c.client.bytesRead;
      bytesOut += c.client.bytesWritten ?? 0;
    }
    return { bytesIn, bytesOut };
  }

  private accept(client: Socket): void {
    this.counters.connections++;
    if (this.pool.size === 0) {
      // No endpoint: refuse like a closed port instead of holding the client.
      this.counters.failures++;
      client.on('error', ignore);
      client.resetAndDestroy();
      return;
    }
    const c = new TcpConnection(this, client);
    this.conns.add(c);
    c.start();
  }
}

function ignore(): void {}

/** One client connection and its (current) upstream. */
class TcpConnection {
  upstream: Socket | undefined;
  target: Target | undefined;
  private connected = false;
  private tried: Target[] | undefined;
  private clientIp: string | undefined;

  constructor(
    private readonly l: TcpListener,
    readonly client: Socket,
  ) {
    client.on('error', (err: Error) => {
      const up = this.upstream;
      if (up === undefined) return;
      if (code(err) === 'ECONNRESET' && this.connected) up.resetAndDestroy();
      else up.destroy();
    });
    client.on('close', () => {
      const counters = this.l.counters;
      counters.bytesIn += client.bytesRead;
      counters.bytesOut += client.bytesWritten ?? 0;
      this.l.conns.delete(this);
      const up = this.upstream;
      if (up === undefined || up.destroyed) return;
      if (!this.connected) up.destroy();
      else {
        // Both FINs are through; the upstream only flushes what is left. Bound that by the idle timeout.
        const idle = this.l.settings.idleTimeoutMs;
        if (idle > 0) up.setTimeout(idle);
      }
    });
  }

  start(): void {
    const l = this.l;
    let t: Target | undefined;
    if (l.affinity !== undefined) {
      this.clientIp = this.client.remoteAddress;
      const k = this.clientIp === undefined ? undefined : l.affinity.get(this.clientIp);
      if (k !== undefined) t = l.pool.get(k);
    }
    t ??= l.pool.next();
    if (t === undefined) this.refuse();
    else this.attempt(t);
  }

  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }

  private refuse(): void {
    this.l.counters.failures++;
    this.client.resetAndDestroy();
  }

  private attempt(t: Target): void {
    const timeoutMs = this.l.settings.connectTimeoutMs;
    const up = connect({ host: t.address, port: t.port, family: t.family, allowHalfOpen: true, noDelay: true });
    this.upstream = up;
    this.target = t;
    up.setTimeout(timeoutMs);
    up.on('timeout', () => {
      if (!this.connected) this.connectFailed(up, t, connectTimeoutError(timeoutMs));
      else up.destroy();
    });
    up.on('error', (err: Error) => {
      if (!this.connected) this.connectFailed(up, t, err);
      else if (code(err) === 'ECONNRESET') this.client.resetAndDestroy();
      else this.client.destroy();
    });
    up.once('connect', () => this.established(up, t));
  }

  private connectFailed(up: Socket, t: Target, err: Error): void {
    if (up !== this.upstream) return;
    up.destroy();
    this.upstream = undefined;
    this.target = undefined;
    const l = this.l;
    l.counters.connectErrors++;
    l.settings.log.debug({ key: l.entry.key, backend: t.key, err: err.message }, 'backend connect failed');
    if (this.client.destroyed) return;
    const tried = (this.tried ??= []);
    tried.push(t);
    const next = tried.length < l.settings.maxConnectAttempts ? l.pool.after(t, tried) : undefined;
    if (next === undefined) this.refuse();
    else this.attempt(next);
  }

  private established(up: Socket, t: Target): void {
    if (up !== this.upstream) return;
    const client = this.client;
    if (client.destroyed) {
      up.destroy();
      return;
    }
    const l = this.l;
    if (l.pool.get(t.key) === undefined) {
      this.connectFailed(up, t, removedError());
      return;
    }
    this.connected = true;
    up.setTimeout(0);
    const idle = l.settings.idleTimeoutMs;
    if (idle > 0) {
      // One timer on the client socket: Node refreshes it on every read and write, so it sees both directions.
      client.setTimeout(idle);
      client.on('timeout', () => this.destroy());
    }
    if (l.affinity !== undefined && this.clientIp !== undefined) l.affinity.set(this.clientIp, t.key);
    const pp = l.entry.proxyProtocol;
    if (pp !== undefined) {
      const addrs = {
        sourceAddress: client.remoteAddress,
        sourcePort: client.remotePort,
        destinationAddress: client.localAddress,
        destinationPort: client.localPort,
      };
      up.write(pp === 'v1' ? proxyHeaderV1(addrs) : proxyHeaderV2(addrs, 'TCP'));
    }
    client.pipe(up);
    up.pipe(client);
  }
}
