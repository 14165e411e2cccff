import { targetKey, type BackendPool, type Target } from './backend-pool.js';
import type { NativeHandle, TcpEngineAddon } from './native-addon.js';

/**
 * The native engine knows backends as small integer ids per listener. An id is given to a target the first time
 * it is picked (a cold start of 10,000 listeners registers nothing), is marked not live while the target is out of
 * the pool (a connect that completes to it then counts as failed), and is reused once the connections that may
 * still name it have been drained.
 */
export class EngineTargets {
  private readonly ids = new Map<string, number>();
  private readonly byId: (Target | undefined)[] = [];
  /** The current pool's targets → ids: a pick is one lookup. */
  private cached = new Map<Target, number>();
  /** Keys the engine holds as live. */
  private readonly live = new Set<string>();
  private readonly free: number[] = [];
  /** Per key that left the entry: the connection serial then; its id is reused after that drain. */
  private readonly leftAt = new Map<string, number>();

  constructor(
    private readonly addon: TcpEngineAddon,
    private readonly handle: NativeHandle,
  ) {}

  idOf(t: Target): number {
    const cached = this.cached.get(t);
    if (cached !== undefined) return cached;
    const key = t.key;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.byId.length;
      this.ids.set(key, id);
      this.byId[id] = t;
      this.addon.target(this.handle, id, t.address, t.port, true);
      this.live.add(key);
    } else if (!this.live.has(key)) {
      this.addon.target(this.handle, id, undefined, 0, true);
      this.live.add(key);
    }
    this.leftAt.delete(key);
    this.cached.set(t, id);
    return id;
  }

  target(id: number): Target | undefined {
    return this.byId[id];
  }

  /**
   * A new pool: targets out of it are no longer live, back in it live again. Returns the ids of targets no longer
   * listed at all (whose connections drain), each once.
   */
  poolChanged(pool: BackendPool, listed: () => Set<string>): number[] {
    this.cached = new Map();
    const pooled = new Set(pool.targets.map((t) => t.key));
    let unlisted: Set<string> | undefined;
    const doomed: number[] = [];
    for (const [key, id] of this.ids) {
      if (pooled.has(key)) {
        if (!this.live.has(key)) {
          this.addon.target(this.handle, id, undefined, 0, true);
          this.live.add(key);
        }
        this.leftAt.delete(key);
        continue;
      }
      if (this.live.delete(key)) this.addon.target(this.handle, id, undefined, 0, false);
      if (!(unlisted ??= listed()).has(key) && !this.leftAt.has(key)) doomed.push(id);
    }
    return doomed;
  }

  /** The targets `ids` left at connection serial `upTo`; returns what reuses their ids once they are drained. */
  leaving(ids: number[], upTo: number): () => void {
    const keys = ids.map((id) => this.byId[id]!.key);
    for (const k of keys) this.leftAt.set(k, upTo);
    return () => {
      for (const k of keys) {
        // Listed again since, or left again later (that later drain reuses it).
        if (this.leftAt.get(k) !== upTo) continue;
        this.leftAt.delete(k);
        const id = this.ids.get(k)!;
        this.ids.delete(k);
        this.byId[id] = undefined;
        this.free.push(id);
      }
    };
  }
}

/** The keys of an entry's backends, as targets name them. */
export const listedKeys = (backends: readonly { address: string; port: number }[]): Set<string> =>
  new Set(backends.map((b) => targetKey(b.address, b.port)));
