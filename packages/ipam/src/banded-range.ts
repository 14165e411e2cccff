// What the IP and port allocators share: a BandedBitmap over the values of one
// range (addresses or ports). A subclass says how a value maps to a bitmap index
// and back, and which Kubernetes-worded errors name its kind of value.
import type { BandedBitmap } from './bitmap.js';
import { IpamError, rangeFull } from './errors.js';

export interface RangeSnapshot {
  range: string;
  data: Uint8Array;
}

export abstract class BandedRange<V> {
  /** The range as text, e.g. '127.96.0.0/12' or '30000-32767'. */
  abstract readonly range: string;
  protected abstract readonly bits: BandedBitmap;

  /** Bitmap index of v when it is an allocatable value of this range; null otherwise. */
  protected abstract indexOf(v: V): number | null;
  protected abstract valueAt(i: number): V;
  protected abstract notInRange(): IpamError;
  protected abstract alreadyAllocated(): IpamError;

  /** Number of allocatable values. */
  get size(): number {
    return this.bits.size;
  }

  /** Number of values in the static band (the lowest ones). */
  get staticBandSize(): number {
    return this.bits.staticBand;
  }

  get used(): number {
    return this.bits.used;
  }

  get free(): number {
    return this.bits.free;
  }

  /** True when v is an allocatable value of this range. */
  contains(v: V): boolean {
    return this.indexOf(v) !== null;
  }

  has(v: V): boolean {
    const i = this.indexOf(v);
    return i !== null && this.bits.has(i);
  }

  /** Allocates a specific value. Throws IpamError NotInRange / AlreadyAllocated. */
  allocate(v: V): void {
    const i = this.indexOf(v);
    if (i === null) throw this.notInRange();
    if (!this.bits.set(i)) throw this.alreadyAllocated();
  }

  /** Allocates a free value (dynamic band first). Throws IpamError RangeFull. */
  allocateNext(): V {
    const i = this.bits.allocateNext();
    if (i < 0) throw rangeFull(this.range);
    return this.valueAt(i);
  }

  /** Releases a value; releasing a free or out-of-range value is a no-op (returns false). */
  release(v: V): boolean {
    const i = this.indexOf(v);
    return i !== null && this.bits.clear(i);
  }

  /** Every allocated value, in ascending order. */
  allocated(): V[] {
    const out: V[] = [];
    this.bits.forEachSet((i) => out.push(this.valueAt(i)));
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
}
