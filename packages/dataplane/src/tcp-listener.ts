import { connect, createServer, type Server, type Socket } from 'node:net';
import { AffinityTable, reconcileAffinity } from './affinity.js';
import { BackendPool, targetKey, type Target } from './backend-pool.js';
import { choiceAfterFailure, firstChoice, forgetFailed } from './backend-choice.js';
import { proxyHeaderV1, proxyHeaderV2 } from './proxy-protocol.js';
import { ClosedSignal, DrainTimers } from './listener-shutdown.js';
import { Counters, type Settings } from './settings.js';
import type { ServiceEntry } from './types.js';
import { Sweeper, sweepEvery } from './sweeper.js';

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
  private readonly drainTimers = new DrainTimers();
  /** Connections waiting for their backend to accept, checked against connectTimeoutMs. */
  readonly connecting: Sweeper<TcpConnection>;
  /** Established connections, checked for idleTimeoutMs without traffic (when it is not 0). */
  readonly idle: Sweeper<TcpConnection>;
  private retired = false;
  private readonly closed = new ClosedSignal();

  private constructor(
    public entry: ServiceEntry,
    private readonly server: Server,
    readonly settings: Settings,
  ) {
    this.pool = new BackendPool(entry.backends, entry.localOnly);
    if (entry.affinity) this.affinity = new AffinityTable(entry.affinity.timeoutSeconds * 1000, settings.now);
    this.connecting = new Sweeper(sweepEvery(settings.connectTimeoutMs), checkConnecting);
    this.idle = new Sweeper(sweepEvery(settings.idleTimeoutMs), checkIdle);
  }

  /**
   * Binds, then calls `done` once: with the listener, or with the listen error (EADDRINUSE, EACCES...). A
   * callback, not a promise: a cold start opens 10,000 of these at once.
   */
  static open(entry: ServiceEntry, settings: Settings, done: (err: Error | undefined, l: TcpListener) => void): void {
    const server = createServer(serverOptions);
    const l = new TcpListener(entry, server, settings);
    l.opened = done;
    (server as TaggedServer)[LISTENER] = l;
    server.on('error', onServerError);
    server.on('listening', onListening);
    server.on('connection', onConnection);
    server.listen({ host: entry.address, port: entry.port, exclusive: true, backlog: settings.backlog });
  }

  /** Until the bind has succeeded or failed: who to tell. */
  private opened: ((err: Error | undefined, l: TcpListener) => void) | undefined;

  bound(err: Error | undefined): void {
    const done = this.opened;
    this.opened = undefined;
    if (done === undefined) {
      // After binding, errors are accept failures (EMFILE...): log them and keep serving.
      if (err !== undefined) this.settings.log.warn({ key: this.entry.key, err: err.message }, 'accept failed');
      return;
    }
    if (err !== undefined) this.affinity?.close();
    done(err, this);
  }

  /** The server's 'close': it stopped listening and its last connection is gone. */
  serverClosedNow(): void {
    this.closed.fire();
  }

  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.entry.port;
  }

  /** Swaps backends and settings in place; connections to backends no longer listed close after drainMs. */
  update(entry: ServiceEntry): void {
    this.entry = entry;
    this.pool = new BackendPool(entry.backends, entry.localOnly, this.pool);
    this.affinity = reconcileAffinity(this.affinity, entry.affinity, this.settings.now);
    if (this.conns.size === 0) return;
    const listed = new Set(entry.backends.map((b) => targetKey(b.address, b.port)));
    const doomed: TcpConnection[] = [];
    for (const c of this.conns) if (c.target !== undefined && !listed.has(c.target.key)) doomed.push(c);
    if (doomed.length > 0) this.drainLater(doomed);
  }

  private drainLater(conns: TcpConnection[]): void {
    this.drainTimers.after(this.settings.drainMs, () => {
      for (const c of conns) c.destroy();
    });
  }

  /** Stops accepting now; established connections are closed after drainMs. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    // Listened for only now: 'close' comes after close(), once the last connection is gone.
    this.server.on('close', onServerClose);
    this.server.close();
    this.affinity?.close();
    if (this.conns.size > 0) this.drainLater([...this.conns]);
  }

  /** Stops accepting and closes every connection now. */
  close(): Promise<void> {
    this.retire();
    this.drainTimers.clear();
    this.connecting.close();
    this.idle.close();
    for (const c of this.conns) c.destroy();
    return this.closedPromise();
  }

  /** Settles once the server is closed and its last connection has gone. */
  closedPromise(): Promise<void> {
    return this.closed.promise();
  }

  /** Client connections accepted and not yet closed. */
  get active(): number {
    return this.conns.size;
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

  accept(client: Socket): void {
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

// Per listener, nothing but the server and this object: at 10,000 Services, a closure or promise per listener is
// megabytes of heap and garbage-collector work during a cold start. The handlers below are shared and find
// their listener through a tag on the server.
/** pauseOnConnect: nothing is read from the client until a backend is connected. */
const serverOptions = { allowHalfOpen: true, pauseOnConnect: true, noDelay: true };
const LISTENER = Symbol('knet.tcpListener');
type TaggedServer = Server & { [LISTENER]: TcpListener };
function onConnection(this: TaggedServer, client: Socket): void {
  this[LISTENER].accept(client);
}
function onServerClose(this: TaggedServer): void {
  this[LISTENER].serverClosedNow();
}
function onServerError(this: TaggedServer, err: Error): void {
  this[LISTENER].bound(err);
}
function onListening(this: TaggedServer): void {
  this[LISTENER].bound(undefined);
}
function checkConnecting(c: TcpConnection, now: number): void {
  const connectMs = c.l.settings.connectTimeoutMs;
  const up = c.upstream;
  if (now - c.since < connectMs || up === undefined) return;
  // Judged after this loop turn's I/O (timers run before it): a connect that completed while the loop was busy
  // has its event waiting, and is not a timeout.
  setImmediate(() => {
    if (!c.connected) c.connectFailed(up, connectTimeoutError(connectMs));
  });
}
function checkIdle(c: TcpConnection, now: number): void {
  // Bytes either way on the client socket (everything from the backend is written to it) count as activity.
  const seen = c.client.bytesRead + (c.client.bytesWritten ?? 0);
  if (seen !== c.seenBytes) {
    c.seenBytes = seen;
    c.since = now;
  } else if (now - c.since >= c.l.settings.idleTimeoutMs) c.destroy();
}

// The per-connection path allocates no closures: every handler below is shared, finds its connection through
// this tag on the socket, and runs with `this` bound to the socket that emitted the event.
const CONN = Symbol('knet.tcpConnection');
type Tagged = Socket & { [CONN]?: TcpConnection };
const tag = (s: Socket, c: TcpConnection): void => {
  (s as Tagged)[CONN] = c;
};
const connOf = (s: Socket): TcpConnection | undefined => (s as Tagged)[CONN];
/** The connection whose current upstream is `up`, or undefined for an abandoned attempt. */
const ownerOf = (up: Socket): TcpConnection | undefined => {
  const c = connOf(up);
  return c !== undefined && c.upstream === up ? c : undefined;
};

/**
 * Half-closes `s` for writing. When its peer has already sent FIN and nothing is queued, close() sends the same
 * FIN as shutdown() would, and saves a syscall and a poll round trip per connection.
 */
function endWrites(s: Socket): void {
  if (s.destroyed) return;
  if (s.readableEnded && s.writableLength === 0) s.destroy();
  else s.end();
}

// Client → upstream. A false write pauses the reader until the writer drains: memory stays at the socket buffers.
function onClientData(this: Socket, chunk: Buffer): void {
  const up = connOf(this)?.upstream;
  if (up !== undefined && !up.write(chunk)) this.pause();
}
function onClientEnd(this: Socket): void {
  const up = connOf(this)?.upstream;
  if (up !== undefined) endWrites(up);
}
function onClientDrain(this: Socket): void {
  connOf(this)?.upstream?.resume();
}
function onClientError(this: Socket, err: Error): void {
  const c = connOf(this);
  const up = c?.upstream;
  if (c === undefined || up === undefined) return;
  if (code(err) === 'ECONNRESET' && c.connected) up.resetAndDestroy();
  else up.destroy();
}
function onClientClose(this: Socket): void {
  const c = connOf(this);
  if (c === undefined) return;
  const l = c.l;
  l.counters.bytesIn += this.bytesRead;
  l.counters.bytesOut += this.bytesWritten ?? 0;
  l.conns.delete(c);
  l.connecting.delete(c);
  l.idle.delete(c);
  const up = c.upstream;
  if (up === undefined || up.destroyed) return;
  if (!c.connected) up.destroy();
  else {
    // Both FINs are through; the upstream only flushes what is left. Bound that by the idle timeout.
    const idle = l.settings.idleTimeoutMs;
    if (idle > 0) {
      up.setTimeout(idle);
      up.on('timeout', onUpstreamTimeout);
    }
  }
}

// Upstream → client, the mirror image.
function onUpstreamData(this: Socket, chunk: Buffer): void {
  const c = ownerOf(this);
  if (c !== undefined && !c.client.write(chunk)) this.pause();
}
function onUpstreamEnd(this: Socket): void {
  const c = ownerOf(this);
  if (c !== undefined) endWrites(c.client);
}
function onUpstreamDrain(this: Socket): void {
  if (ownerOf(this) !== undefined) connOf(this)!.client.resume();
}
function onUpstreamConnect(this: Socket): void {
  ownerOf(this)?.established(this);
}
/** Set only once the client has closed: bounds how long the upstream may take to flush what is left. */
function onUpstreamTimeout(this: Socket): void {
  this.destroy();
}
function onUpstreamError(this: Socket, err: Error): void {
  const c = ownerOf(this);
  if (c === undefined) return;
  if (!c.connected) c.connectFailed(this, err);
  else if (code(err) === 'ECONNRESET') c.client.resetAndDestroy();
  else c.client.destroy();
}

/** One client connection and its (current) upstream. */
class TcpConnection {
  upstream: Socket | undefined;
  target: Target | undefined;
  connected = false;
  /** When the current connect attempt started, then when traffic was last seen (performance.now()). */
  since = 0;
  /** Client bytes both ways at the last idle sweep. */
  seenBytes = 0;
  private tried: Target[] | undefined;
  private clientIp: string | undefined;

  constructor(
    readonly l: TcpListener,
    readonly client: Socket,
  ) {
    tag(client, this);
    client.on('error', onClientError);
    client.on('close', onClientClose);
  }

  start(): void {
    const l = this.l;
    if (l.affinity !== undefined) this.clientIp = this.client.remoteAddress;
    const t = firstChoice(l.pool, l.affinity, this.clientIp);
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
    const l = this.l;
    const up = connect({ host: t.address, port: t.port, family: t.family, allowHalfOpen: true, noDelay: true });
    tag(up, this);
    this.upstream = up;
    this.target = t;
    this.since = performance.now();
    l.connecting.add(this);
    up.on('error', onUpstreamError);
    up.once('connect', onUpstreamConnect);
  }

  connectFailed(up: Socket, err: Error): void {
    const t = this.target;
    if (up !== this.upstream || t === undefined) return;
    up.destroy();
    this.upstream = undefined;
    this.target = undefined;
    const l = this.l;
    l.connecting.delete(this);
    l.counters.connectErrors++;
    l.settings.log.debug({ key: l.entry.key, backend: t.key, err: err.message }, 'backend connect failed');
    if (this.client.destroyed) {
      forgetFailed(l.affinity, this.clientIp, t);
      return;
    }
    const tried = (this.tried ??= []);
    tried.push(t);
    const next = choiceAfterFailure(l.pool, l.affinity, this.clientIp, t, tried, l.settings.maxConnectAttempts);
    if (next !== undefined) this.attempt(next);
    else this.refuse();
  }

  established(up: Socket): void {
    const client = this.client;
    if (client.destroyed) {
      up.destroy();
      return;
    }
    const l = this.l;
    if (this.target === undefined || l.pool.get(this.target.key) === undefined) {
      this.connectFailed(up, removedError());
      return;
    }
    this.connected = true;
    l.connecting.delete(this);
    if (l.settings.idleTimeoutMs > 0) {
      this.since = performance.now();
      l.idle.add(this);
    }
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
    // Direct 'data' → write() with pause/resume on backpressure: what pipe() does, without its per-connection
    // listeners and per-chunk bookkeeping. 'end' is passed on as a half-close (both sockets are allowHalfOpen).
    client.on('data', onClientData);
    client.on('end', onClientEnd);
    client.on('drain', onClientDrain);
    up.on('data', onUpstreamData);
    up.on('end', onUpstreamEnd);
    up.on('drain', onUpstreamDrain);
    client.resume();
  }
}
