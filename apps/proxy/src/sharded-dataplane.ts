// Dataplane.apply() diffs the whole table it is given, so at 10,000 Services every endpoint change would cost a
// full pass (validation, copies, comparisons of every entry). The proxy splits its table over shards, each its own
// Dataplane, by a hash of the Service: a sync re-applies only the shards whose entries changed, which the change
// tracker makes cheap to see (unchanged Services keep the very same entry objects).
import { Dataplane, type ApplyResult, type DataplaneOptions, type ServiceEntry, type ServiceStats } from '@knet/dataplane';

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

  async apply(table: readonly ServiceEntry[]): Promise<ShardedApplyResult> {
    const n = this.shards.length;
    const split: ServiceEntry[][] = Array.from({ length: n }, () => []);
    for (const e of table) split[shardOf(e.key, n)]!.push(e);
    const dirty: number[] = [];
    for (let i = 0; i < n; i++) if (this.failing.has(i) || !sameEntries(split[i]!, this.applied[i]!)) dirty.push(i);
    const result: ShardedApplyResult = { opened: [], updated: [], closed: [], errors: [], shardsApplied: dirty.length };
    // Closes happen inside each shard's apply; a port moving between shards may find its old owner still bound,
    // so shards that failed are tried once more after all the others have run.
    const run = async (i: number): Promise<ApplyResult> => {
      const r = await this.shards[i]!.apply(split[i]!);
      this.applied[i] = split[i]!;
      if (r.errors.length > 0) this.failing.add(i);
      else this.failing.delete(i);
      return r;
    };
    const first = await Promise.all(dirty.map(run));
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

  stats(): Map<string, ServiceStats> {
    const out = new Map<string, ServiceStats>();
    for (const s of this.shards) for (const [k, v] of s.stats()) out.set(k, v);
    return out;
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
