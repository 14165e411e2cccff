/**
 * Coarse timeouts for many members with one interval timer. Cheaper per connection than a Node timer each: no
 * Timeout object to allocate and no refresh on every read and write. The interval runs only while there are
 * members, so thousands of idle listeners cost nothing.
 */
export class Sweeper<T> {
  /** Created on first use: a listener that never sees a connection holds no Set. */
  private members: Set<T> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly everyMs: number,
    private readonly check: (member: T, now: number) => void,
  ) {}

  add(member: T): void {
    (this.members ??= new Set()).add(member);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.everyMs);
      this.timer.unref();
    }
  }

  delete(member: T): void {
    this.members?.delete(member);
  }

  get size(): number {
    return this.members?.size ?? 0;
  }

  private sweep(): void {
    const now = performance.now();
    // check() may delete members: iterating a Set while deleting visited entries is safe.
    const members = this.members;
    if (members !== undefined) for (const m of members) this.check(m, now);
    if (members === undefined || members.size === 0) this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.members = undefined;
  }
}

/** A sweep period for a timeout: a member expires between `ms` and about 1.5 × `ms` after its last activity. */
export const sweepEvery = (ms: number): number => Math.min(Math.max(Math.floor(ms / 4), 5), 60_000);
