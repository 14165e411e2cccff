// NodePort allocator in the style of kube-apiserver's portallocator, with the
// KEP-3668 static band min(max(16, size/32), 128) at the bottom of the range.
import { BandedBitmap, bandSize } from './bitmap.js';
import { BandedRange } from './banded-range.js';
import { type IpamError, invalidArgument, portAlreadyAllocated, portNotInRange } from './errors.js';

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

export class PortAllocator extends BandedRange<number> {
  readonly portRange: PortRange;
  /** The range as text, e.g. '30000-32767'. */
  readonly range: string;
  protected readonly bits: BandedBitmap;

  constructor(range: string, opts: PortAllocatorOptions = {}) {
    super();
    this.portRange = parsePortRange(range);
    this.range = formatPortRange(this.portRange);
    this.bits = new BandedBitmap(this.portRange.size, bandSize(this.portRange.size, 16, 32, 128), opts.random);
  }

  protected indexOf(port: number): number | null {
    if (!Number.isInteger(port)) return null;
    const i = port - this.portRange.base;
    return i >= 0 && i < this.portRange.size ? i : null;
  }

  protected valueAt(i: number): number {
    return this.portRange.base + i;
  }

  protected notInRange(): IpamError {
    return portNotInRange(this.range);
  }

  protected alreadyAllocated(): IpamError {
    return portAlreadyAllocated(this.range);
  }
}
