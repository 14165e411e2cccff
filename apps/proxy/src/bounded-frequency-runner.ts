// kube-proxy's async.BoundedFrequencyRunner: runs fn at most once per minIntervalMs and at least once per
// maxIntervalMs; requests arriving during the wait (or during a run) coalesce into one run. Runs never overlap.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RunnerOptions {
  minIntervalMs: number;
  /** 0 or Infinity: no periodic runs. */
  maxIntervalMs: number;
  clock?: Clock;
  /** fn threw or rejected; the runner goes on (retryAfter() asks for an earlier retry). */
  onError?: (err: unknown) => void;
}

export class BoundedFrequencyRunner {
  private readonly clock: Clock;
  private lastRun = -Infinity;
  private pending = false;
  private retryAt = Infinity;
  private running: Promise<void> | undefined;
  private timer: unknown;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly fn: () => void | Promise<void>,
    private readonly opts: RunnerOptions,
  ) {
    if (!(opts.minIntervalMs >= 0) || !(opts.maxIntervalMs >= 0)) throw new RangeError('intervals must be >= 0');
    if (opts.maxIntervalMs > 0 && opts.maxIntervalMs < opts.minIntervalMs) {
      throw new RangeError(`maxIntervalMs (${opts.maxIntervalMs}) must be >= minIntervalMs (${opts.minIntervalMs})`);
    }
    this.clock = opts.clock ?? realClock;
  }

  /** Asks for a run: now if minInterval has passed since the last one, else as soon as it has. */
  run(): void {
    this.pending = true;
    this.schedule();
  }

  /** Asks for a run no later than `ms` from now (still no sooner than minInterval after the last). */
  retryAfter(ms: number): void {
    this.retryAt = Math.min(this.retryAt, this.clock.now() + ms);
    this.schedule();
  }

  /** Stops scheduling; resolves once a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.running) return; // a run in progress reschedules when it ends
    const earliest = this.lastRun + this.opts.minIntervalMs;
    // (-Infinity + Infinity is NaN: with no periodic runs, nothing is due until asked.)
    let at = this.opts.maxIntervalMs > 0 && this.opts.maxIntervalMs < Infinity ? this.lastRun + this.opts.maxIntervalMs : Infinity;
    if (this.pending || this.retryAt < Infinity) at = Math.min(at, Math.max(earliest, this.pending ? -Infinity : this.retryAt));
    if (at === Infinity) return;
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    // A zero delay still goes through the timer, so a burst in one tick coalesces into one run.
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    this.pending = false;
    this.retryAt = Infinity;
    this.lastRun = this.clock.now();
    this.running = (async () => {
      try {
        await this.fn();
      } catch (err) {
        this.opts.onError?.(err);
      }
    })().finally(() => {
      this.running = undefined;
      this.schedule();
    });
  }
}
