// Coalesces concurrent calls into batches: one batch is in flight at a time, and every call made
// meanwhile waits for the next one, so N concurrent callers cost about one round trip and one
// durable write on the server instead of N (group commit, on the client side of the wire).
// Hand-written rather than DataLoader: DataLoader cuts a batch per tick, and requests parsed from
// different sockets arrive in different ticks, so under load its batches stayed at one or two.

/** One answer per request, in order: a value, or the Error that request alone gets. */
export type BatchSend<Req, Res> = (requests: Req[]) => Promise<(Res | Error)[]>;

interface Pending<Req, Res> {
  request: Req;
  resolve: (res: Res) => void;
  reject: (err: unknown) => void;
}

export class CallBatcher<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private running = false;

  constructor(
    private readonly send: BatchSend<Req, Res>,
    private readonly maxBatch = 256,
  ) {}

  call(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Calls made in this turn of the event loop (other sockets' requests) join the first batch.
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let results: (Res | Error)[];
      try {
        results = await this.send(batch.map((p) => p.request));
        if (results.length !== batch.length) throw new Error(`batch of ${batch.length} answered with ${results.length} results`);
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      batch.forEach((p, i) => {
        const r = results[i] as Res | Error;
        if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      });
    }
    this.running = false;
  }
}
