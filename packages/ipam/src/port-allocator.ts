// NodePort allocator in the style of kube-apiserver's portallocator, with the
// KEP-3668 static band min(max(16, size/32), 128) at the bottom of the range.
import { BandedBitmap, bandSize } from './bitmap.js';
import { IpamError, invalidArgument, portAlreadyAllocated, portNotInRange, rangeFull } from './errors.js';

export interface PortRange {
  base: number;
  size: number;
}

/** Parses '30000-32767' (or a single port '30000'); throws IpamError InvalidArgument. */
export function parsePortRange(s: string): PortRange {
  const m = typeof s === 'string' ? /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(s) : null;
  if (m === null) throw invalidArgument(`invalid port range ${JSON.stringify(s)}: expected <first>-<last>, e.g. 30000-32767`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) {
    throw invalidArgument(`invalid port range ${JSON.stringify(s)}: ports must be 1-65535 and first <= last`);
  }
  return { base: lo, size: hi - lo + 1 };
}

export function formatPortRange(r: PortRange): string {
  return `${r.base}-${r.base + r.size - 1}`;
}

export interface PortAllocatorOptions {
  random?: () => number;
}

export class PortAllocator {
  readonly portRange: PortRange;
  /** The range as text, e.g. '30000-32767'. */
  readonly range: string;
  private readonly bits: BandedBitmap;

  constructor(range: string, opts: PortAllocatorOptions = {}) {
    this.portRange = parsePortRange(range);
    this.range = formatPortRange(this.portRange);
    this.bits = new BandedBitmap(this.portRange.size, bandSize(this.portRange.size, 16, 32, 128), opts.random);
  }

  get size(): number {
    return this.bits.size;
  }

  get staticBandSize(): number {
    return this.bits.staticBand;
  }

  get used(): number {
    return this.bits.used;
  }

  get free(): number {
    return this.bits.free;
  }

  contains(port: number): boolean {
    return this.indexOf(port) !== null;
  }

  has(port: number): boolean {
    const i = this.indexOf(port);
    return i !== null && this.bits.has(i);
  }

  allocate(port: number): void {
    const i = this.indexOf(port);
    if (i === null) throw portNotInRange(this.range);
    if (!this.bits.set(i)) throw portAlreadyAllocated(this.range);
  }

  allocateNext(): number {
    const i = this.bits.allocateNext();
    if (i < 0) throw rangeFull(this.range);
    return this.portRange.base + i;
  }

  release(port: number): boolean {
    const i = this.indexOf(port);
    return i !== null && this.bits.clear(i);
  }

  allocated(): number[] {
    const out: number[] = [];
    this.bits.forEachSet((i) => out.push(this.portRange.base + i));
    return out;
  }

  snapshot(): { range: string; data: Uint8Array } {
    return { range: this.range, data: this.bits.toBytes() };
  }

  restore(snap: { range: string; data: Uint8Array }): void {
    if (snap.range !== this.range) {
      throw new IpamError('InvalidArgument', `snapshot is of range ${snap.range}, not ${this.range}`, this.range);
    }
    this.bits.loadBytes(snap.data);
  }

  private indexOf(port: number): number | null {
    if (!Number.isInteger(port)) return null;
    const i = port - this.portRange.base;
    return i >= 0 && i < this.portRange.size ? i : null;
  }
}
