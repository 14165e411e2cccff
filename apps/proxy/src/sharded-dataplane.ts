// Dataplane.apply() diffs the whole table it is given, so at 10,000 Services every endpoint change would cost a
// full pass (validation, copies, comparisons of every entry). The proxy splits its table over shards, each its own
// Dataplane, by a hash of the Service: a sync re-applies only the shards whose entries changed, which the change
// tracker makes cheap to see (unchanged Services keep the very same entry objects).
import { Dataplane, type ApplyResult, type DataplaneOptions, type ServiceEntry, type ServiceStats, type TcpEngine } from '@knet/dataplane';

export const DefaultShards = 128;

/** FNV-1a of the Service part of an entry key ('ns/name' before the ':'): all entries of a Service share a shard. */
export function shardOf(key: string, shards: number): number {
  const colon = key.indexOf(':');
  const end = colon < 0 ? key.length : colon;
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export interface ShardedApplyResult extends ApplyResult {
  /** How many shards were re-applied. */
  shardsApplied: number;
}

export class ShardedDataplane {
  private readonly shards: Dataplane[];
  /** What each shard was last given; a shard with the same entry objects in the same order is skipped. */
  private readonly applied: (readonly ServiceEntry[])[];
  /** Shards whose last apply reported errors: re-applied every time, so failed binds are retried. */
  private readonly failing = new Set<number>();

  constructor(opts: DataplaneOptions = {}, count = DefaultShards) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`shards must be a positive integer, got ${count}`);
    this.shards = Array.from({ length: count }, () => new Dataplane(opts));
    this.applied = Array.from({ length: count }, () => []);
  }

  /** The engine the TCP listeners run on: 'native' (the C addon) or 'js'. */
  get tcpEngine(): TcpEngine {
    return this.shards[0]!.tcpEngine;
  }

  /** Whether TCP connections move bytes through io_uring (see Dataplane.ioUring). */
  get ioUring(): boolean {
    return this.shards[0]!.ioUring;
  }

  /** The whole table: split by shard, and only shards whose entries changed are applied. */
  apply(table: readonly ServiceEntry[]): Promise<ShardedApplyResult> {
    const n = this.shards.length;
    const split = new Map<number, ServiceEntry[]>();
    for (let i = 0; i < n; i++) split.set(i, []);
    for (const e of table) split.get(shardOf(e.key, n))!.push(e);
    return this.applyShards(split);
  }

  /**
   * New full entry lists for some shards (the others keep what they have). Shards given the same entry objects
   * as last time are skipped; shards whose last apply failed somewhere are applied again, to retry the binds.
   */
  async applyShards(changed: ReadonlyMap<number, readonly ServiceEntry[]>): Promise<ShardedApplyResult> {
    const todo = new Map<number, readonly ServiceEntry[]>();
    for (const [i, list] of changed) {
      if (!Number.isInteger(i) || i < 0 || i >= this.shards.length) throw new RangeError(`no shard ${i}`);
      if (this.failing.has(i) || !sameEntries(list, this.applied[i]!)) todo.set(i, list);
    }
    for (const i of this.failing) if (!todo.has(i)) todo.set(i, this.applied[i]!);
    const dirty = [...todo.keys()];
    const result: ShardedApplyResult = { opened: [], updated: [], closed: [], errors: [], shardsApplied: dirty.length };
    const run = async (i: number): Promise<ApplyResult> => {
      const list = todo.get(i)!;
      const r = await this.shards[i]!.apply(list);
      this.applied[i] = list;
      if (r.errors.length > 0) this.failing.add(i);
      else this.failing.delete(i);
      return r;
    };
    const first = await Promise.all(dirty.map(run));
    // A port moving between shards may have found its old owner still bound: once every shard has closed what
    // it had to, the shards that failed are tried once more.
    const retried = new Map<number, ApplyResult>();
    if (first.some((r) => r.closed.length > 0)) {
      for (const [k, i] of dirty.entries()) if (first[k]!.errors.length > 0) retried.set(i, await run(i));
    }
    dirty.forEach((i, k) => {
      for (const r of [first[k]!, retried.get(i)]) {
        if (r === undefined) continue;
        result.opened.push(...r.opened);
        result.updated.push(...r.updated);
        result.closed.push(...r.closed);
      }
      result.errors.push(...(retried.get(i) ?? first[k]!).errors);
    });
    return result;
  }

  /** What shard `i` was last given. */
  entries(i: number): readonly ServiceEntry[] {
    return this.applied[i] ?? [];
  }

  get shardCount(): number {
    return this.shards.length;
  }

  stats(): Map<string, ServiceStats> {
    const out = new Map<string, ServiceStats>();
    for (const s of this.shards) for (const [k, v] of s.stats()) out.set(k, v);
    return out;
  }

  /** How many keys are bound. */
  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  keys(): string[] {
    return this.shards.flatMap((s) => s.keys());
  }

  address(key: string): { address: string; port: number; protocol: 'TCP' | 'UDP' } | undefined {
    return this.shards[shardOf(key, this.shards.length)]!.address(key);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

function sameEntries(a: readonly ServiceEntry[], b: readonly ServiceEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
