// A work queue with client-go's guarantees: a key queued many times is processed
// once (bursts coalesce), a key is never processed by two workers at once (a change
// during processing re-queues it after), and failures are retried with per-key
// exponential backoff.

export interface WorkQueueOptions {
  /** First retry delay; doubles per consecutive failure of a key. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly timers = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((k: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Counts for metrics. */
  adds = 0;
  retries = 0;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1000 * 1000;
  }

  /** Queues key unless it is already waiting; a key being processed is queued again once done. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.adds++;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(key);
      this.processing.add(key);
      w(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Queues key after delayMs; an earlier pending delay for the same key wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, { at, timer });
  }

  /** Queues key after its backoff: baseDelay · 2^(failures so far), capped. */
  addRateLimited(key: K): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.retries++;
    this.addAfter(key, this.backoffFor(n));
  }

  backoffFor(failures: number): number {
    return Math.min(this.baseDelayMs * 2 ** Math.min(failures, 40), this.maxDelayMs);
  }

  /** Consecutive failures of key since its last forget(). */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resets the backoff of key (after a successful sync). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** The next key to process, or undefined once shut down. Call done(key) after processing. */
  get(): Promise<K | undefined> {
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      // Changed while being processed: it goes to the back of the queue (or to a waiting worker).
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting to be processed. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Stops handing out keys; waiting get() calls resolve with undefined; pending delays are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.queue.length = 0;
    this.head = 0;
    this.dirty.clear();
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}
