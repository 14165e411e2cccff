import { AffinityTable, reconcileAffinity } from './affinity.js';
import { BackendPool, type Target } from './backend-pool.js';
import { choiceAfterFailure, firstChoice } from './backend-choice.js';
import { EngineTargets, listedKeys } from './engine-targets.js';
import type { NativeHandle, PickResult, TcpEngineAddon } from './native-addon.js';
import { proxyHeaderV1, proxyHeaderV2 } from './proxy-protocol.js';
import { ClosedSignal, DrainTimers } from './listener-shutdown.js';
import { Counters, type Settings } from './settings.js';
import { sweepEvery } from './sweeper.js';
import type { ServiceEntry } from './types.js';

/**
 * A TCP listener whose sockets live in the native engine (native/tcp_engine.c): C accepts, connects and moves
 * the bytes; this object makes the decisions, once per connection (pick and retry), with the same BackendPool
 * and AffinityTable as the JS engine (tcp-listener.ts), and keeps the same update / retire / close semantics.
 * Backends are known to C by ids (engine-targets.ts).
 */
export class NativeTcpListener {
  private static addon: TcpEngineAddon | undefined;
  private static readonly byId = new Map<number, NativeTcpListener>();
  private static nextId = 1;

  pool: BackendPool;
  affinity: AffinityTable | undefined;
  private readonly id: number;
  private handle: NativeHandle | undefined;
  private boundPort: number | undefined;
  /** Made at the first connection: most of 10,000 listeners never see one. */
  private ids: EngineTargets | undefined;
  private wantAddresses = false;
  private readonly drainTimers = new DrainTimers();
  private retired = false;
  private readonly closed = new ClosedSignal();
  /** The counters once the engine is done with the listener. */
  private final: Counters | undefined;

  private constructor(
    public entry: ServiceEntry,
    readonly settings: Settings,
  ) {
    this.id = NativeTcpListener.nextId++;
    this.pool = new BackendPool(entry.backends, entry.localOnly);
    if (entry.affinity) this.affinity = new AffinityTable(entry.affinity.timeoutSeconds * 1000, settings.now);
  }

  /** The engine's callbacks are set once per process. */
  private static init(addon: TcpEngineAddon): void {
    if (NativeTcpListener.addon !== undefined) return;
    addon.init(pick, retry, event);
    NativeTcpListener.addon = addon;
  }

  /** '' when connections can use io_uring, else why not (an errno code such as ENOSYS or EPERM). */
  static ioUringUnavailable(addon: TcpEngineAddon, settings: Settings): string {
    NativeTcpListener.init(addon);
    return addon.ioUring(settings.ioUringBuffers);
  }

  /** Binds synchronously and calls `done` with the listener or the bind error (its `code`: EADDRINUSE...). */
  static open(
    addon: TcpEngineAddon,
    entry: ServiceEntry,
    settings: Settings,
    done: (err: Error | undefined, l: NativeTcpListener) => void,
  ): void {
    NativeTcpListener.init(addon);
    const l = new NativeTcpListener(entry, settings);
    const sweepMs = Math.min(
      sweepEvery(settings.connectTimeoutMs),
      settings.idleTimeoutMs > 0 ? sweepEvery(settings.idleTimeoutMs) : Infinity,
    );
    const r = addon.listen(
      l.id,
      entry.address,
      entry.port,
      settings.backlog,
      settings.connectTimeoutMs,
      settings.idleTimeoutMs,
      sweepMs,
      settings.ioUring ? settings.ioUringBuffers : 0,
    );
    if (typeof r === 'string') {
      l.closed.fire();
      l.affinity?.close();
      const err = Object.assign(new Error(`listen ${r} ${entry.address}:${entry.port}`), { code: r });
      done(err, l);
      return;
    }
    l.handle = r;
    NativeTcpListener.byId.set(l.id, l);
    l.configure();
    done(undefined, l);
  }

  get port(): number {
    if (this.handle === undefined || this.entry.port !== 0) return this.entry.port;
    return (this.boundPort ??= this.addon.port(this.handle));
  }

  private get addon(): TcpEngineAddon {
    return NativeTcpListener.addon!;
  }

  /** Counters as the engine has them now (bytes include open connections). */
  get counters(): Counters {
    if (this.final !== undefined) return this.final;
    const c = new Counters();
    if (this.handle !== undefined) {
      this.addon.counters(this.handle, raw);
      c.connections = raw[0]!;
      c.failures = raw[2]!;
      c.connectErrors = raw[3]!;
      c.bytesIn = raw[4]!;
      c.bytesOut = raw[5]!;
    }
    return c;
  }

  /** Client connections accepted and not yet closed. */
  get active(): number {
    if (this.handle === undefined || this.closed.closed) return 0;
    this.addon.counters(this.handle, raw);
    return raw[1]!;
  }

  liveBytes(): { bytesIn: number; bytesOut: number } {
    const c = this.counters;
    return { bytesIn: c.bytesIn, bytesOut: c.bytesOut };
  }

  /** Swaps backends and settings in place; connections to backends no longer listed close after drainMs. */
  update(entry: ServiceEntry): void {
    this.entry = entry;
    this.pool = new BackendPool(entry.backends, entry.localOnly, this.pool);
    this.affinity = reconcileAffinity(this.affinity, entry.affinity, this.settings.now);
    this.syncTargets();
  }

  /** Whether C passes client addresses to pick/retry: only affinity and PROXY headers need them. */
  private configure(): void {
    const want = this.affinity !== undefined || this.entry.proxyProtocol !== undefined;
    if (want !== this.wantAddresses && this.handle !== undefined) {
      this.wantAddresses = want;
      this.addon.configure(this.handle, want);
    }
  }

  private syncTargets(): void {
    this.configure();
    if (this.ids === undefined) return;
    const doomed = this.ids.poolChanged(this.pool, () => listedKeys(this.entry.backends));
    if (doomed.length > 0) this.drainLater(doomed);
  }

  /** Connections accepted so far, as the engine counts them: drain() closes connections up to this serial. */
  private serial(): number {
    this.addon.counters(this.handle!, raw);
    return raw[0]!;
  }

  private drainLater(ids: number[] | null): void {
    const h = this.handle!;
    const upTo = this.serial();
    const reuse = ids === null || this.ids === undefined ? undefined : this.ids.leaving(ids, upTo);
    if (this.active === 0) {
      reuse?.();
      return;
    }
    this.drainTimers.after(this.settings.drainMs, () => {
      if (!this.closed.closed) this.addon.drain(h, ids === null ? null : Int32Array.from(ids), upTo);
      reuse?.();
    });
  }

  /** Stops accepting now; established connections are closed after drainMs. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.affinity?.close();
    if (this.handle === undefined) return;
    this.addon.stop(this.handle);
    if (this.active > 0) this.drainLater(null);
  }

  /** Stops accepting and closes every connection now. */
  close(): Promise<void> {
    this.retire();
    this.drainTimers.clear();
    if (this.handle !== undefined && !this.closed.closed) this.addon.drain(this.handle, null, Infinity);
    return this.closedPromise();
  }

  /** Settles once the server is closed and its last connection has gone. */
  closedPromise(): Promise<void> {
    return this.closed.promise();
  }

  /** The engine is done with this listener: counters are final, the handle may go. */
  private closedNow(): void {
    this.final = this.counters;
    NativeTcpListener.byId.delete(this.id);
    this.closed.fire();
  }

  /** A new client: its backend (affinity first, then round robin), or -1 to reset it. */
  pickFor(clientAddress: string | undefined, clientPort?: number, localAddress?: string, localPort?: number): PickResult {
    const t = firstChoice(this.pool, this.affinity, clientAddress);
    if (t === undefined) return -1;
    const id = (this.ids ??= new EngineTargets(this.addon, this.handle!)).idOf(t);
    const pp = this.entry.proxyProtocol;
    if (pp === undefined) return id;
    const addrs = { sourceAddress: clientAddress, sourcePort: clientPort, destinationAddress: localAddress, destinationPort: localPort };
    return [id, pp === 'v1' ? proxyHeaderV1(addrs) : proxyHeaderV2(addrs, 'TCP')];
  }

  /** A connect to `failed` did not succeed: the next untried backend, or -1 (the client is reset). */
  retryAfter(failed: number, tried: number[], code: string, clientAddress: string | undefined): number {
    const ids = this.ids!;
    const f = ids.target(failed);
    this.settings.log.debug({ key: this.entry.key, backend: f?.key, err: code }, 'backend connect failed');
    if (f === undefined) return -1;
    const triedTargets = tried.map((id) => ids.target(id)).filter((t): t is Target => t !== undefined);
    const next = choiceAfterFailure(this.pool, this.affinity, clientAddress, f, triedTargets, this.settings.maxConnectAttempts);
    return next === undefined ? -1 : ids.idOf(next);
  }

  acceptFailed(code: string): void {
    this.settings.log.warn({ key: this.entry.key, err: code }, 'accept failed');
  }

  static closed(id: number): void {
    NativeTcpListener.byId.get(id)?.closedNow();
  }

  static find(id: number): NativeTcpListener | undefined {
    return NativeTcpListener.byId.get(id);
  }
}

/** Where the engine writes a listener's counters: one for all, read at once. */
const raw = new Float64Array(6);

// The engine's three callbacks, shared by every listener. An exception must not unwind into C: it is logged and
// the client is reset.
function pick(id: number, clientAddress?: string, clientPort?: number, localAddress?: string, localPort?: number): PickResult {
  return decide(id, 'pick', (l) => l.pickFor(clientAddress, clientPort, localAddress, localPort));
}

function retry(id: number, failed: number, tried: number[], code: string, clientAddress?: string): PickResult {
  return decide(id, 'retry', (l) => l.retryAfter(failed, tried, code, clientAddress));
}

/** A decision of listener `id`, or -1 (reset the client) when the listener is gone or the decision throws. */
function decide(id: number, what: string, choose: (l: NativeTcpListener) => PickResult): PickResult {
  const l = NativeTcpListener.find(id);
  if (l === undefined) return -1;
  try {
    return choose(l);
  } catch (err) {
    l.settings.log.error({ key: l.entry.key, err: (err as Error).message }, `${what} failed`);
    return -1;
  }
}

function event(id: number, kind: 'closed' | 'accept', code: string): void {
  if (kind === 'closed') NativeTcpListener.closed(id);
  else NativeTcpListener.find(id)?.acceptFailed(code);
}
