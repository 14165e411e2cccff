// Background syncing of LevelDB's write-ahead log, for stores opened with `fsync: 'interval'`.
//
// There a write is acknowledged once LevelDB has written it to its log with write(2): the kernel
// holds it, so it survives a crash or kill -9 of the process, and this class puts it on disk
// within the interval. It calls fdatasync on the log files through its own descriptors rather than
// making a synced LevelDB write: a synced write holds LevelDB's writer queue for the whole flush,
// and every write behind it would wait on the disk again. A log LevelDB has deleted needs no sync:
// its contents went into a table that LevelDB synced before recording it in the (synced) MANIFEST.

import { open, readdir } from 'node:fs/promises';

const LOG_FILE = /^\d+\.log$/;

export interface LogSyncOptions {
  /** Longest time a written resourceVersion stays off disk, in ms. */
  intervalMs: number;
  /** After each sync: how long it took, and its error if it failed. */
  onSync?: (seconds: number, err?: unknown) => void;
}

export class LogSyncer {
  private written: number;
  private synced: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Log files whose directory entry is known to be on disk. */
  private readonly knownLogs = new Set<string>();

  /** `rv`: the store's resourceVersion at open, on disk (LevelDB replays its logs into synced tables on open). */
  constructor(
    private readonly dir: string,
    rv: number,
    private readonly opts: LogSyncOptions,
  ) {
    this.written = this.synced = rv;
  }

  /** The highest resourceVersion known to be on disk. */
  syncedThrough(): number {
    return this.synced;
  }

  /** `rv` was written (not synced): it goes to disk within the interval. */
  wrote(rv: number): void {
    this.written = rv;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.sync().catch(() => {}); // reported through onSync
      }, this.opts.intervalMs);
      this.timer.unref(); // a pending sync does not keep the process alive; close() syncs
    }
  }

  /** Puts everything written so far on disk. Rejects if a log file could not be synced. */
  async sync(): Promise<void> {
    while (this.running !== undefined) await this.running.catch(() => {});
    if (this.synced >= this.written) return;
    this.running = this.syncLogs(this.written);
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Stops the timer and syncs what is left. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sync();
  }

  private async syncLogs(target: number): Promise<void> {
    const started = performance.now();
    try {
      const logs = (await readdir(this.dir)).filter((f) => LOG_FILE.test(f));
      let newFile = false;
      for (const name of logs) {
        if (await syncPath(`${this.dir}/${name}`, 'data')) newFile ||= !this.knownLogs.has(name);
      }
      // A log created since the last sync: its name must be on disk too.
      if (newFile) await syncPath(this.dir, 'all');
      this.knownLogs.clear();
      for (const name of logs) this.knownLogs.add(name);
      this.synced = Math.max(this.synced, target);
      this.opts.onSync?.((performance.now() - started) / 1000);
    } catch (err) {
      this.opts.onSync?.((performance.now() - started) / 1000, err);
      throw err;
    }
  }
}

/** fdatasync (`data`) or fsync of a file or directory; false if it is gone (a log LevelDB deleted). */
async function syncPath(path: string, how: 'data' | 'all'): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    await (how === 'data' ? fh.datasync() : fh.sync());
    return true;
  } finally {
    await fh.close();
  }
}
