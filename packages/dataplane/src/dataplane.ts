import { describeBindError } from './bind-error.js';
import { resolveSettings, type Settings } from './settings.js';
import { nativeAddon } from './native-addon.js';
import { NativeTcpListener } from './native-tcp-listener.js';
import { TcpListener } from './tcp-listener.js';
import type { ApplyError, ApplyResult, Backend, DataplaneOptions, ServiceEntry, ServiceStats, TcpEngine } from './types.js';
import { UdpListener } from './udp-listener.js';
import { validateEntry } from './validate.js';

type AnyTcpListener = TcpListener | NativeTcpListener;
type Listener = AnyTcpListener | UdpListener;

/** What forces a re-bind when it changes; everything else is swapped in place. */
const sameBinding = (a: ServiceEntry, b: ServiceEntry): boolean =>
  a.protocol === b.protocol && a.address === b.address && a.port === b.port;

function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.address !== y.address || x.port !== y.port || x.ready !== y.ready || x.serving !== y.serving) return false;
    if (x.terminating !== y.terminating || (x.nodeLocal ?? false) !== (y.nodeLocal ?? false)) return false;
  }
  return true;
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
  return true;
}

/** Everything else that matters, compared field by field: an update that changes nothing is skipped. */
export function sameSettings(a: ServiceEntry, b: ServiceEntry): boolean {
  return (
    sameBackends(a.backends, b.backends) &&
    a.affinity?.type === b.affinity?.type &&
    a.affinity?.timeoutSeconds === b.affinity?.timeoutSeconds &&
    a.proxyProtocol === b.proxyProtocol &&
    (a.localOnly ?? false) === (b.localOnly ?? false) &&
    sameLabels(a.labels, b.labels)
  );
}

/**
 * A userspace L4 load balancer: one listener per (address, port, protocol), each
 * splicing clients to backends with kube-proxy's selection rules. Driven
 * declaratively through apply().
 */
export class Dataplane {
  private readonly settings: Settings;
  private readonly listeners = new Map<string, Listener>();
  /** Per bound key, the caller's object it was last given: given again, it is known unchanged without reading it. */
  private readonly given = new Map<string, ServiceEntry>();
  /** Listeners removed by apply() whose connections are still draining. */
  private readonly retired = new Set<AnyTcpListener>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: DataplaneOptions = {}) {
    this.settings = resolveSettings(opts);
  }

  /** The engine its TCP listeners run on (see DataplaneOptions.tcpEngine). */
  get tcpEngine(): TcpEngine {
    return this.settings.tcpEngine;
  }

  /** Whether its TCP connections move bytes through io_uring (the native engine, ioUring, and a kernel that allows it). */
  get ioUring(): boolean {
    if (this.settings.tcpEngine !== 'native' || !this.settings.ioUring || !('addon' in nativeAddon)) return false;
    return NativeTcpListener.ioUringUnavailable(nativeAddon.addon, this.settings) === '';
  }

  /**
   * Makes the running listeners match `table`: binds new entries, closes removed
   * ones, and swaps backends in place for the rest. Calls are serialized. An
   * invalid entry is reported and leaves whatever ran under its key untouched.
   */
  apply(table: readonly ServiceEntry[]): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(table));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(table: readonly ServiceEntry[]): Promise<ApplyResult> {
    const result: ApplyResult = { opened: [], updated: [], closed: [], errors: [] };
    if (!Array.isArray(table)) {
      // Never read garbage as "an empty table": that would close every listener.
      result.errors.push({ key: '', reason: 'Invalid', error: 'table: must be an array of ServiceEntry; nothing changed' });
      return result;
    }
    if (this.closed) {
      for (const e of table) result.errors.push({ key: String(e?.key), reason: 'Closed', error: 'dataplane is closed' });
      return result;
    }
    // Work is proportional to what changed: an entry object given again is taken as is (entries are immutable
    // to us, as objects in an informer cache are); only new objects are validated, compared and copied.
    const desired = new Map<string, ServiceEntry>();
    const sources = new Map<string, ServiceEntry>();
    const keep = new Set<string>();
    for (const e of table) {
      const key = typeof e?.key === 'string' ? e.key : String(e?.key);
      if (this.given.get(key) === e && !desired.has(key)) {
        desired.set(key, this.listeners.get(key)!.entry);
        sources.set(key, e);
        continue;
      }
      const problems = validateEntry(e);
      if (problems.length === 0 && desired.has(key)) problems.push('key: Duplicate value: another entry has this key');
      if (problems.length > 0) {
        result.errors.push({ key, reason: 'Invalid', error: problems.join('; ') });
        keep.add(key);
        continue;
      }
      const running = this.listeners.get(key)?.entry;
      // Equal to what runs: keep the running entry, so the loops below see it unchanged. Entries are immutable
      // once given (the API says so), so the caller's object is kept as is: no copy of every backend.
      desired.set(key, running !== undefined && sameBinding(e, running) && sameSettings(e, running) ? running : e);
      sources.set(key, e);
    }

    // Close first, so an address:port that moves to another key is free to bind.
    for (const [key, l] of this.listeners) {
      if (keep.has(key)) continue;
      const want = desired.get(key);
      if (want !== undefined && sameBinding(want, l.entry)) continue;
      this.listeners.delete(key);
      this.given.delete(key);
      this.retire(l);
      result.closed.push(key);
    }

    const opening: Promise<void>[] = [];
    let binding = 0;
    let allBound: (() => void) | undefined;
    const opened = (key: string, want: ServiceEntry, err: unknown, l: Listener | undefined): void => {
      if (l !== undefined && err === undefined) {
        this.listeners.set(key, l);
        this.given.set(key, sources.get(key)!);
        result.opened.push(key);
      } else {
        const { reason, error } = describeBindError(err, want.protocol, want.address, want.port);
        this.settings.log.warn({ key, reason, err: error }, 'bind failed');
        result.errors.push({ key, reason, error });
      }
    };
    const tcpOpened = (err: Error | undefined, l: AnyTcpListener): void => {
      opened(l.entry.key, l.entry, err, l);
      if (--binding === 0) allBound?.();
    };
    for (const [key, want] of desired) {
      const l = this.listeners.get(key);
      if (l !== undefined) {
        if (want !== l.entry) {
          l.update(want);
          result.updated.push(key);
        }
        this.given.set(key, sources.get(key)!);
        continue;
      }
      if (want.protocol === 'TCP') {
        binding++;
        if (this.settings.tcpEngine === 'native' && 'addon' in nativeAddon) {
          NativeTcpListener.open(nativeAddon.addon, want, this.settings, tcpOpened);
        } else TcpListener.open(want, this.settings, tcpOpened);
        continue;
      }
      opening.push(
        UdpListener.open(want, this.settings).then(
          (l) => opened(key, want, undefined, l),
          (err: unknown) => opened(key, want, err, undefined),
        ),
      );
    }
    if (binding > 0) opening.push(new Promise<void>((resolve) => (allBound = resolve)));
    await Promise.all(opening);
    // close() may have run while we were binding.
    if (this.closed) await this.closeListeners();
    return result;
  }

  private retire(l: Listener): void {
    l.retire();
    if (!(l instanceof UdpListener)) {
      // Kept so close() can end its draining connections early.
      this.retired.add(l);
      void l.closedPromise().then(() => this.retired.delete(l));
    }
  }

  /** The bound address of a key's listener: how to find an ephemeral port (entry port 0). */
  address(key: string): { address: string; port: number; protocol: 'TCP' | 'UDP' } | undefined {
    const l = this.listeners.get(key);
    return l === undefined ? undefined : { address: l.entry.address, port: l.port, protocol: l.entry.protocol };
  }

  /** How many keys have a bound listener. */
  get size(): number {
    return this.listeners.size;
  }

  /** Keys with a bound listener. */
  keys(): string[] {
    return [...this.listeners.keys()];
  }

  stats(): Map<string, ServiceStats> {
    const out = new Map<string, ServiceStats>();
    for (const [key, l] of this.listeners) {
      const c = l.counters;
      const { bytesIn, bytesOut } = l.liveBytes();
      out.set(key, {
        key,
        protocol: l.entry.protocol,
        address: l.entry.address,
        port: l.port,
        labels: { ...(l.entry.labels ?? {}) },
        connections: c.connections,
        active: l instanceof UdpListener ? l.flows.size : l.active,
        bytesIn,
        bytesOut,
        failures: c.failures,
        connectErrors: c.connectErrors,
        udpPackets: c.udpPackets,
      });
    }
    return out;
  }

  /** Closes every listener and connection, including draining ones. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.closeListeners();
  }

  private async closeListeners(): Promise<void> {
    const all = [...this.listeners.values(), ...this.retired];
    this.listeners.clear();
    this.given.clear();
    this.retired.clear();
    await Promise.all(all.map((l) => l.close()));
  }
}
