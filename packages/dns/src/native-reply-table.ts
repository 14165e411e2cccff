// The JS side of the C reply table (native/knet_dns.c): the addon keeps the bytes and answers UDP hits itself;
// this side names what a reply is (type, rcode, truncated) by a small slot number, so C can count its hits
// per kind and the server can report them to onQuery / onQueryTally as if JS had answered them.
import type { EncodedReplyCacheOptions, ReplyMeta, ReplyTable, Variant } from './encoded-reply-cache.js';
import type { NativeAddon, NativeHandle } from './native.js';

/** Hits C answered for one kind of reply since the last take. */
export interface NativeTally {
  meta: ReplyMeta;
  count: number;
  durationSumMs: number;
  /** Hits per duration bucket (upper bounds durationBucketsMs), the last one past every bound. */
  bucketCounts: number[];
}

export class NativeReplyTable implements ReplyTable {
  readonly handle: NativeHandle;
  private readonly slots = new Map<string, number>();
  private readonly metas: ReplyMeta[] = [];
  private readonly scratch: Buffer;
  private readonly stride: number;
  /** C's hit counters, in place (see NativeAddon.tableNew). */
  private readonly stats: Float64Array;

  constructor(
    private readonly addon: NativeAddon,
    opts: EncodedReplyCacheOptions,
    readonly durationBucketsMs: readonly number[],
  ) {
    const maxReply = Math.min(opts.maxReplyBytes ?? 4096, 65535);
    this.stride = 2 + durationBucketsMs.length + 1;
    this.stats = new Float64Array(1 + addon.MAX_SLOTS * this.stride);
    this.handle = addon.tableNew(opts.maxBytes ?? 8 * 1024 * 1024, opts.maxQueryBytes ?? 512, maxReply, Float64Array.from(durationBucketsMs, (ms) => ms * 1e6), this.stats);
    this.scratch = Buffer.allocUnsafeSlow(maxReply);
  }

  /** The zone moved on: nothing stored before may be answered again. */
  setSerial(serial: number): void {
    this.addon.tableSetSerial(this.handle, serial);
  }

  lookup(variant: Variant, msg: Buffer, serial: number): { reply: Buffer; meta: ReplyMeta } | null {
    const r = this.addon.tableLookup(this.handle, variant, msg, serial, this.scratch);
    if (r < 0) return null;
    return { reply: Buffer.from(this.scratch.subarray(0, r & 0xffff)), meta: this.metas[r >>> 16]! };
  }

  keep(variant: Variant, msg: Buffer, serial: number, reply: Buffer, meta: ReplyMeta): void {
    const slot = this.slotOf(meta);
    if (slot >= 0) this.addon.tableStore(this.handle, variant, msg, serial, reply, slot);
  }

  clear(): void {
    this.addon.tableSetSerial(this.handle, -1);
  }

  get size(): number {
    return this.addon.tableSize(this.handle)[0];
  }

  get byteSize(): number {
    return this.addon.tableSize(this.handle)[1];
  }

  /** The hits C answered since the last call, by kind of reply. */
  takeTallies(): NativeTally[] {
    const { stats, stride } = this;
    const out: NativeTally[] = [];
    if (stats[0] === 0) return out;
    for (let slot = 0; slot < this.metas.length; slot++) {
      const at = 1 + slot * stride;
      const count = stats[at]!;
      if (count === 0) continue;
      out.push({ meta: this.metas[slot]!, count, durationSumMs: stats[at + 1]! / 1e6, bucketCounts: Array.from(stats.subarray(at + 2, at + stride)) });
    }
    // Same thread as C: nothing is counted between the read and the reset.
    stats.fill(0, 0, 1 + this.metas.length * stride);
    return out;
  }

  /** A slot per distinct kind of reply (a few dozen in practice); -1 once every slot is taken (then not kept). */
  private slotOf(meta: ReplyMeta): number {
    const key = `${meta.type}/${meta.rcode}/${meta.truncated ? 1 : 0}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      if (this.metas.length >= this.addon.MAX_SLOTS) return -1;
      slot = this.metas.length;
      this.metas.push({ type: meta.type, rcode: meta.rcode, truncated: meta.truncated });
      this.slots.set(key, slot);
    }
    return slot;
  }
}
