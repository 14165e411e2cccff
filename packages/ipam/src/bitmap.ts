// A fixed-size bitmap with KEP-3070/3668 style bands: dynamic allocation takes a
// random free index above the static band first and falls back to the band only
// when the upper part is full (kube-apiserver's randomScanStrategyWithOffset).

const FULL = 0xffffffff;

export class BandedBitmap {
  readonly size: number;
  /** Indexes [0, staticBand) form the static band. */
  readonly staticBand: number;
  private readonly words: Uint32Array;
  private readonly random: () => number;
  private count = 0;

  constructor(size: number, staticBand: number, random: () => number = Math.random) {
    this.size = Math.max(0, size);
    this.staticBand = Math.min(Math.max(0, staticBand), this.size);
    this.words = new Uint32Array(Math.ceil(this.size / 32));
    this.random = random;
  }

  get used(): number {
    return this.count;
  }

  get free(): number {
    return this.size - this.count;
  }

  has(i: number): boolean {
    return ((this.words[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  /** Sets index i; false when it was already set. */
  set(i: number): boolean {
    if (this.has(i)) return false;
    this.words[i >>> 5] |= 1 << (i & 31);
    this.count++;
    return true;
  }

  /** Clears index i; false when it was already clear. */
  clear(i: number): boolean {
    if (!this.has(i)) return false;
    this.words[i >>> 5] &= ~(1 << (i & 31));
    this.count--;
    return true;
  }

  /** Sets and returns a free index chosen as described above; -1 when full. */
  allocateNext(): number {
    if (this.count >= this.size) return -1;
    const i = this.findFree(this.staticBand, this.size);
    const at = i >= 0 ? i : this.findFree(0, this.staticBand);
    if (at >= 0) this.set(at);
    return at;
  }

  /** A free index in [lo, hi), scanning from a random start and wrapping; -1 if none. */
  private findFree(lo: number, hi: number): number {
    if (hi <= lo) return -1;
    const start = lo + Math.floor(this.random() * (hi - lo));
    const a = this.scan(start, hi);
    return a >= 0 ? a : this.scan(lo, start);
  }

  /** First clear index in [lo, hi); skips full words so a dense map is cheap to scan. */
  private scan(lo: number, hi: number): number {
    let i = lo;
    while (i < hi) {
      const w = i >>> 5;
      if (this.words[w] === FULL) {
        i = (w + 1) << 5;
        continue;
      }
      const end = Math.min(hi, (w + 1) << 5);
      for (; i < end; i++) if (!this.has(i)) return i;
    }
    return -1;
  }

  forEachSet(fn: (i: number) => void): void {
    for (let w = 0; w < this.words.length; w++) {
      const word = this.words[w]!;
      if (word === 0) continue;
      for (let b = 0; b < 32; b++) if ((word >>> b) & 1) fn((w << 5) + b);
    }
  }

  toBytes(): Uint8Array {
    return new Uint8Array(this.words.buffer.slice(0));
  }

  /** Replaces the contents with a toBytes() image of a bitmap of the same size. */
  loadBytes(bytes: Uint8Array): void {
    if (bytes.byteLength !== this.words.byteLength) {
      throw new Error(`bitmap image has ${bytes.byteLength} bytes, expected ${this.words.byteLength}`);
    }
    new Uint8Array(this.words.buffer).set(bytes);
    // Bits past `size` in the last word are not addresses: never count them.
    const tail = this.size & 31;
    if (tail !== 0) this.words[this.words.length - 1] &= (1 << tail) - 1;
    let n = 0;
    for (const w of this.words) n += popcount(w);
    this.count = n;
  }
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** min(max(lo, size/step), hi), and no band at all for ranges of `lo` or fewer. */
export function bandSize(rangeSize: bigint | number, lo: number, step: number, hi: number): number {
  const size = BigInt(rangeSize);
  if (size <= BigInt(lo)) return 0;
  const offset = size / BigInt(step);
  if (offset < BigInt(lo)) return lo;
  if (offset > BigInt(hi)) return hi;
  return Number(offset);
}
