// An IP range allocator in the style of kube-apiserver's ipallocator: a bitmap
// over the usable addresses of one CIDR, with the KEP-3070 static band.
import { BandedBitmap, bandSize } from './bitmap.js';
import { type Cidr, type IPFamily, cidrContains, formatCIDR, formatIP, parseCIDR, parseIP } from './cidr.js';
import { BandedRange } from './banded-range.js';
import { type IpamError, invalidArgument, ipAlreadyAllocated, ipNotInRange } from './errors.js';

/** kube-apiserver refuses service ranges with more than 20 host bits (IPv4 /12, IPv6 /108). */
export const MAX_RANGE_BITS = 20;

export interface IPAllocatorOptions {
  /** Reserve the KEP-3070 static band (service CIDRs); off for plain pools. Default true. */
  staticBand?: boolean;
  /** Source of randomness in [0, 1), for deterministic tests. */
  random?: () => number;
}

export type { RangeSnapshot } from './banded-range.js';

export class IPAllocator extends BandedRange<string> {
  readonly cidr: Cidr;
  /** The CIDR as text, e.g. '127.96.0.0/12'. */
  readonly range: string;
  readonly family: IPFamily;
  /** First allocatable address: the network address is never handed out. */
  private readonly base: bigint;
  protected readonly bits: BandedBitmap;

  constructor(cidr: string, opts: IPAllocatorOptions = {}) {
    super();
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

  /** Canonical text form of ip when it parses and is in this range; null otherwise. */
  canonical(ip: string): string | null {
    const i = this.indexOf(ip);
    return i === null ? null : this.valueAt(i);
  }

  protected indexOf(ip: string): number | null {
    const parsed = parseIP(ip);
    if (parsed === null || !cidrContains(this.cidr, parsed)) return null;
    const off = parsed.value - this.base;
    if (off < 0n || off >= BigInt(this.bits.size)) return null;
    return Number(off);
  }

  protected valueAt(i: number): string {
    return formatIP({ family: this.family, value: this.base + BigInt(i) });
  }

  protected notInRange(): IpamError {
    return ipNotInRange(this.range);
  }

  protected alreadyAllocated(): IpamError {
    return ipAlreadyAllocated(this.range);
  }
}
