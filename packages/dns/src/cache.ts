// A small answer cache for forwarded queries: entries live as long as their
// smallest TTL (negative answers: the SOA minimum, RFC 2308), capped by maxTtl.
import type { Answer as PacketRR, Packet } from 'dns-packet';

export interface CacheOptions {
  /** Most entries kept; the oldest go first. Default 10000. */
  maxEntries?: number;
  /** Upper bound on how long anything is kept, in seconds. Default 300. */
  maxTtl?: number;
}

export interface CachedReply {
  rcode: string;
  answers: PacketRR[];
  authorities: PacketRR[];
  additionals: PacketRR[];
}

interface Entry {
  reply: CachedReply;
  storedAt: number;
  expiresAt: number;
}

function ttlOf(rr: PacketRR): number | undefined {
  return rr.type === 'OPT' ? undefined : rr.ttl ?? 0;
}

export class ReplyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtl: number;

  constructor(opts: CacheOptions = {}, private readonly now: () => number = Date.now) {
    this.maxEntries = opts.maxEntries ?? 10000;
    this.maxTtl = opts.maxTtl ?? 300;
  }

  static key(name: string, type: string, klass: string): string {
    return `${name.toLowerCase().replace(/\.$/, '')}|${type}|${klass}`;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached reply with TTLs lowered by the time it has spent here, or undefined. */
  get(key: string): CachedReply | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const t = this.now();
    if (t >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    const aged = Math.floor((t - e.storedAt) / 1000);
    const age = (list: PacketRR[]): PacketRR[] => list.map((rr) => (rr.type === 'OPT' ? rr : { ...rr, ttl: Math.max(0, (rr.ttl ?? 0) - aged) }));
    return { rcode: e.reply.rcode, answers: age(e.reply.answers), authorities: age(e.reply.authorities), additionals: age(e.reply.additionals) };
  }

  /** Stores a NOERROR / NXDOMAIN reply; anything without a usable TTL is not kept. */
  put(key: string, p: Packet & { rcode?: string }): void {
    const rcode = p.rcode ?? 'NOERROR';
    if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') return;
    const answers = p.answers ?? [];
    const authorities = p.authorities ?? [];
    const additionals = (p.additionals ?? []).filter((a) => a.type !== 'OPT');
    let ttl: number | undefined;
    if (answers.length > 0) {
      for (const rr of [...answers, ...authorities, ...additionals]) {
        const t = ttlOf(rr);
        if (t !== undefined) ttl = ttl === undefined ? t : Math.min(ttl, t);
      }
    } else {
      const soa = authorities.find((a) => a.type === 'SOA');
      if (soa && soa.type === 'SOA') ttl = Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
    }
    if (ttl === undefined) return;
    ttl = Math.min(ttl, this.maxTtl);
    if (ttl <= 0) return;
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const t = this.now();
    this.entries.set(key, { reply: { rcode, answers, authorities, additionals }, storedAt: t, expiresAt: t + ttl * 1000 });
  }

  clear(): void {
    this.entries.clear();
  }
}
