// Group commit: mutations are applied in memory in order, their writes queue here,
// and every write queued while one batch is being fsynced goes in the next batch.
// A caller's promise settles only once its writes are durable.

export interface Settle {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<Op> {
  private pending: { ops: Op[]; settle: Settle }[] = [];
  private flushing: Promise<void> | null = null;

  /**
   * write persists one batch durably. onFailure runs after a failed batch: the
   * batch and everything queued behind it (applied in memory against state the
   * failed batch assumed) have been rejected, so memory must be rebuilt from disk.
   */
  constructor(
    private readonly write: (ops: Op[]) => Promise<void>,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  commit(ops: Op[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ops, settle: { resolve, reject } });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves once everything queued so far has settled. */
  async drain(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          await this.write(batch.flatMap((b) => b.ops));
        } catch (err) {
          for (const b of [...batch, ...this.pending.splice(0)]) b.settle.reject(err);
          this.onFailure(err);
          continue;
        }
        for (const b of batch) b.settle.resolve();
      }
    } finally {
      this.flushing = null;
    }
  }
}
