// The bounded window of recent writes, one entry per resourceVersion
// (every write bumps the RV by exactly one), oldest first. It serves watch
// replay and lists continued at an older RV; it mirrors the persisted log.

import type { KubeObject } from '@knet/api';
import type { StoreEventType } from './types.js';

export interface LogEntry {
  rv: number;
  type: StoreEventType;
  resource: string;
  /** State after the write; for DELETED, the last state with the deleting RV. */
  object: KubeObject;
  /** State before the write (MODIFIED, DELETED). */
  prev?: KubeObject;
}

export class EventWindow {
  private readonly ring: (LogEntry | undefined)[];
  private start = 0; // index of the oldest entry
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`watch window must be a positive integer, got ${capacity}`);
    }
    this.ring = new Array<LogEntry | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends the next entry; its rv must follow the newest. Drops the oldest when full. */
  push(entry: LogEntry): void {
    const newest = this.newest();
    if (newest !== undefined && entry.rv !== newest.rv + 1) {
      throw new RangeError(`event log gap: ${newest.rv} then ${entry.rv}`);
    }
    if (this.size === this.capacity) {
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.ring[(this.start + this.size) % this.capacity] = entry;
      this.size++;
    }
  }

  newest(): LogEntry | undefined {
    return this.size === 0 ? undefined : this.ring[(this.start + this.size - 1) % this.capacity];
  }

  oldest(): LogEntry | undefined {
    return this.size === 0 ? undefined : this.ring[this.start];
  }

  /**
   * The lowest RV from which every later write is still here, given the
   * current RV: watching or listing from it (or later) is possible.
   */
  lowestResumableRV(currentRV: number): number {
    const oldest = this.oldest();
    return oldest === undefined ? currentRV : oldest.rv - 1;
  }

  /** Entries with rv > after, oldest first. The caller checks resumability first. */
  since(after: number): LogEntry[] {
    const oldest = this.oldest();
    if (oldest === undefined) return [];
    const skip = Math.max(0, after - oldest.rv + 1);
    const out: LogEntry[] = [];
    for (let i = skip; i < this.size; i++) out.push(this.ring[(this.start + i) % this.capacity] as LogEntry);
    return out;
  }
}
