// Exponential backoff with jitter, for retrying while the apiserver is away.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export class Backoff {
  private attempt = 0;

  /** `random` is injectable so tests can pin the jitter. */
  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${opts.initialMs} and ${opts.maxMs}`);
    }
  }

  /**
   * The next delay: the ceiling doubles per attempt up to maxMs, and the delay is drawn from
   * [ceiling/2, ceiling] so that many clients that lost the same apiserver do not return in lockstep.
   */
  next(): number {
    const ceiling = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(this.attempt, 52));
    this.attempt++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Resolves after ms, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
