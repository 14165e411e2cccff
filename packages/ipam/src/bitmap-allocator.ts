// An IP range allocator in the style of kube-apiserver's ipallocator: a bitmap
// over the usable addresses of one CIDR, with the KEP-3070 static band.
import { BandedBitmap, bandSize } from './bitmap.js';
import { type Cidr, type IPFamily, cidrContains, formatCIDR, formatIP, parseCIDR, parseIP } from './cidr.js';
import { IpamError, invalidArgument, ipAlreadyAllocated, ipNotInRange, rangeFull } from './errors.js';

/** kube-apiserver refuses service ranges with more than 20 host bits (IPv4 /12, IPv6 /108). */
export const MAX_RANGE_BITS = 20;

export interface IPAllocatorOptions {
  /** Reserve the KEP-3070 static band (service CIDRs); off for plain pools. Default true. */
  staticBand?: boolean;
  /** Source of randomness in [0, 1), for deterministic tests. */
  random?: () => number;
}

export interface RangeSnapshot {
  range: string;
  data: Uint8Array;
}

export class IPAllocator {
  readonly cidr: Cidr;
  /** The CIDR as text, e.g. '127.96.0.0/12'. */
  readonly range: string;
  readonly family: IPFamily;
  /** First allocatable address: the network address is never handed out. */
  private readonly base: bigint;
  private readonly bits: BandedBitmap;

  constructor(cidr: string, opts: IPAllocatorOptions = {}) {
    try {
      this.cidr = parseCIDR(cidr);
    } catch (err) {
      throw invalidArgument((err as Error).message);
    }
    this.range = formatCIDR(this.cidr);
    this.family = this.cidr.family;
    if (this.cidr.bits - this.cidr.prefix > MAX_RANGE_BITS) {
      const minPrefix = this.cidr.bits - MAX_RANGE_BITS;
      throw invalidArgument(`range ${this.range} is too large; for ${this.cidr.bits}-bit addresses, the mask must be >= ${minPrefix}`);
    }
    // Like Kubernetes: skip the network address; in IPv4 also the broadcast address.
    // IPv6 has no broadcast, so its last address is usable.
    let max = Number(this.cidr.size) - 1;
    if (this.family === 'IPv4') max--;
    this.base = this.cidr.network + 1n;
    const band = opts.staticBand === false ? 0 : bandSize(this.cidr.size, 16, 16, 256);
    this.bits = new BandedBitmap(Math.max(0, max), band, opts.random);
  }

  /** Number of allocatable addresses. */
  get size(): number {
    return this.bits.size;
  }

  /** Number of addresses in the static band (the lowest ones). */
  get staticBandSize(): number {
    return this.bits.staticBand;
  }

  get used(): number {
    return this.bits.used;
  }

  get free(): number {
    return this.bits.free;
  }

  /** True when ip is an allocatable address of this range (not network/broadcast). */
  contains(ip: string): boolean {
    return this.indexOf(ip) !== null;
  }

  has(ip: string): boolean {
    const i = this.indexOf(ip);
    return i !== null && this.bits.has(i);
  }

  /** Allocates a specific address. Throws IpamError NotInRange / AlreadyAllocated. */
  allocate(ip: string): void {
    const i = this.indexOf(ip);
    if (i === null) throw ipNotInRange(this.range);
    if (!this.bits.set(i)) throw ipAlreadyAllocated(this.range);
  }

  /** Allocates a free address (dynamic band first). Throws IpamError RangeFull. */
  allocateNext(): string {
    const i = this.bits.allocateNext();
    if (i < 0) throw rangeFull(this.range);
    return this.format(i);
  }

  /** Releases an address; releasing a free or out-of-range address is a no-op (returns false). */
  release(ip: string): boolean {
    const i = this.indexOf(ip);
    return i !== null && this.bits.clear(i);
  }

  /** Every allocated address, in ascending order. */
  allocated(): string[] {
    const out: string[] = [];
    this.bits.forEachSet((i) => out.push(this.format(i)));
    return out;
  }

  snapshot(): RangeSnapshot {
    return { range: this.range, data: this.bits.toBytes() };
  }

  restore(snap: RangeSnapshot): void {
    if (snap.range !== this.range) {
      throw new IpamError('InvalidArgument', `snapshot is of range ${snap.range}, not ${this.range}`, this.range);
    }
    this.bits.loadBytes(snap.data);
  }

  /** Canonical text form of ip when it parses and is in this range; null otherwise. */
  canonical(ip: string): string | null {
    const i = this.indexOf(ip);
    return i === null ? null : this.format(i);
  }

  private indexOf(ip: string): number | null {
    const parsed = parseIP(ip);
    if (parsed === null || !cidrContains(this.cidr, parsed)) return null;
    const off = parsed.value - this.base;
    if (off < 0n || off >= BigInt(this.bits.size)) return null;
    return Number(off);
  }

  private format(i: number): string {
    return formatIP({ family: this.family, value: this.base + BigInt(i) });
  }
}
