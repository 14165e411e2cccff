// Encoded replies to in-zone questions, so a repeated question costs a map lookup and a copy
// instead of decode + lookup + encode (bench:dns: ~22k → ~42k QPS in the prototype).
//
// The key is every octet of the query after the 2-octet ID (flags with RD/CD/opcode, counts, the
// question exactly as spelled, EDNS OPT with its payload size and DO bit, anything else the client
// sent) plus what the server adds: the transport (UDP truncates, TCP does not) and whether the
// client may recurse (RA). Given those and the zone's contents the reply is the same bytes every
// time except for the ID, which the caller patches into a copy. The zone's SOA serial moves on
// every change, so the whole cache is dropped the first time a new serial is seen: a changed zone
// is never answered from old bytes. Forwarded answers never come here (their TTLs age).
//
// This Map-based table is the portable one; on Linux the server uses the same rules in C
// (NativeReplyTable, native/knet_dns.c), which also answers UDP hits without entering JS.
import type { Rcode } from './records.js';

/** What a stored reply is, for onQuery: the bytes alone do not say it cheaply. */
export interface ReplyMeta {
  rcode: Rcode | 'BADVERS';
  /** Query type name. */
  type: string;
  truncated: boolean;
}

export interface EncodedReply extends ReplyMeta {
  /** The reply as sent to the first asker; its ID octets are stale. Never handed out without a copy. */
  bytes: Buffer;
}

/** What the server asks of a reply table, whichever keeps the bytes (this class, or the C one). */
export interface ReplyTable {
  /** A fresh copy of the reply stored for msg's octets (with msg's ID), or null; a new serial empties the table. */
  lookup(variant: Variant, msg: Buffer, serial: number): { reply: Buffer; meta: ReplyMeta } | null;
  /** Keeps a reply the zone answered msg with under `serial` (if within the bounds). */
  keep(variant: Variant, msg: Buffer, serial: number, reply: Buffer, meta: ReplyMeta): void;
  clear(): void;
}

export interface EncodedReplyCacheOptions {
  /** Upper bound of keys + replies + per-entry overhead, in bytes. Default 8 MiB (~25,000 typical entries). */
  maxBytes?: number;
  /** Queries longer than this are not cached (they carry options that rarely repeat). Default 512. */
  maxQueryBytes?: number;
  /** Replies longer than this are not cached (big answers are rare and costly to keep). Default 4096. */
  maxReplyBytes?: number;
}

/** Which transport and recursion status a query came with: they change the reply bytes, not the query's. */
export type Variant = 0 | 1 | 2 | 3;

export function variantOf(proto: 'udp' | 'tcp', recursionAvailable: boolean): Variant {
  return ((proto === 'tcp' ? 2 : 0) + (recursionAvailable ? 1 : 0)) as Variant;
}

/** Rough V8 + Map cost of one entry beyond its key characters and reply octets. */
const ENTRY_OVERHEAD = 160;

export class EncodedReplyCache implements ReplyTable {
  // One map per variant: the key stays the query's own octets, with no concatenation per lookup.
  private readonly maps: Map<string, EncodedReply>[] = [new Map(), new Map(), new Map(), new Map()];
  private readonly maxBytes: number;
  private readonly maxQueryBytes: number;
  private readonly maxReplyBytes: number;
  private bytes = 0;
  private serial = -1;
  private count = 0;

  constructor(opts: EncodedReplyCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    this.maxQueryBytes = opts.maxQueryBytes ?? 512;
    this.maxReplyBytes = opts.maxReplyBytes ?? 4096;
  }

  /** The key of a query (its octets after the ID), or null when it is not worth caching. */
  keyOf(msg: Buffer): string | null {
    if (msg.length < 12 || msg.length > this.maxQueryBytes) return null;
    return msg.toString('latin1', 2);
  }

  /** The reply stored for this key under this zone serial; a new serial empties the cache first. */
  get(variant: Variant, key: string, serial: number): EncodedReply | undefined {
    if (serial !== this.serial) {
      this.reset(serial);
      return undefined;
    }
    return this.maps[variant]!.get(key);
  }

  /** Keeps a reply computed under `serial`; the oldest entries go when the byte budget is spent. */
  set(variant: Variant, key: string, serial: number, reply: EncodedReply): void {
    if (reply.bytes.length > this.maxReplyBytes) return;
    if (serial !== this.serial) this.reset(serial);
    const map = this.maps[variant]!;
    if (map.has(key)) return;
    const cost = key.length + reply.bytes.length + ENTRY_OVERHEAD;
    if (cost > this.maxBytes) return;
    while (this.bytes + cost > this.maxBytes && this.evictOne()) {
      // evictOne removed the oldest entry of some variant
    }
    // A copy of its own: the encoder's buffer may be a slice of a shared pool slab that the cache would pin.
    const own = Buffer.allocUnsafeSlow(reply.bytes.length);
    reply.bytes.copy(own);
    map.set(key, { ...reply, bytes: own });
    this.bytes += cost;
    this.count++;
  }

  lookup(variant: Variant, msg: Buffer, serial: number): { reply: Buffer; meta: ReplyMeta } | null {
    const key = this.keyOf(msg);
    const hit = key === null ? undefined : this.get(variant, key, serial);
    if (!hit) return null;
    const reply = Buffer.allocUnsafe(hit.bytes.length);
    hit.bytes.copy(reply);
    reply[0] = msg[0]!;
    reply[1] = msg[1]!;
    return { reply, meta: hit };
  }

  keep(variant: Variant, msg: Buffer, serial: number, reply: Buffer, meta: ReplyMeta): void {
    const key = this.keyOf(msg);
    if (key !== null) this.set(variant, key, serial, { bytes: reply, rcode: meta.rcode, type: meta.type, truncated: meta.truncated });
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Bytes accounted (keys + replies + overhead). */
  get byteSize(): number {
    return this.bytes;
  }

  clear(): void {
    this.reset(-1);
  }

  private reset(serial: number): void {
    for (const m of this.maps) m.clear();
    this.bytes = 0;
    this.count = 0;
    this.serial = serial;
  }

  /** Drops the first-inserted entry of the fullest map (insertion order = age within a map). */
  private evictOne(): boolean {
    let fullest: Map<string, EncodedReply> | undefined;
    for (const m of this.maps) if (m.size > 0 && (!fullest || m.size > fullest.size)) fullest = m;
    if (!fullest) return false;
    const first = fullest.entries().next();
    if (first.done) return false;
    const [k, v] = first.value;
    fullest.delete(k);
    this.bytes -= k.length + v.bytes.length + ENTRY_OVERHEAD;
    this.count--;
    return true;
  }
}
