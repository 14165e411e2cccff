// What a TCP listener (either engine) keeps to shut down: the drain timers of connections to backends that
// left, and the signal that the server is closed with its last connection gone. Both are made on first use:
// most of 10,000 listeners never drain or close.

/** Timers that close draining connections; cleared all at once when the listener closes. */
export class DrainTimers {
  private timers: Set<NodeJS.Timeout> | undefined;

  /** Runs `fn` after `ms` unless clear() comes first; does not hold the process open. */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers?.delete(timer);
      fn();
    }, ms);
    timer.unref();
    (this.timers ??= new Set()).add(timer);
  }

  clear(): void {
    for (const t of this.timers ?? []) clearTimeout(t);
    this.timers = undefined;
  }
}

/** Set once the server is closed and its last connection has gone; its promise settles then. */
export class ClosedSignal {
  private done = false;
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined;

  get closed(): boolean {
    return this.done;
  }

  fire(): void {
    this.done = true;
    this.waiting?.resolve();
  }

  promise(): Promise<void> {
    if (this.done) return Promise.resolve();
    if (this.waiting === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }
}
