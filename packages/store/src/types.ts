import type { KubeObject } from '@knet/api';

export interface ListOptions {
  /** Only this namespace; undefined lists all namespaces. '' is the cluster scope. */
  namespace?: string;
  filter?: (o: KubeObject) => boolean;
  /** Maximum number of items in this page; 0 or undefined for no limit. */
  limit?: number;
  /** Token from a previous page's `continue`. */
  continue?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  /** Items after this page; only without a filter, as Kubernetes does. */
  remainingItemCount?: number;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  object: KubeObject;
  resourceVersion: string;
}

export interface WatchOptions {
  namespace?: string;
  /** Replay events after this RV from the window; undefined, '' or '0' start from now. */
  resourceVersion?: string;
  filter?: (o: KubeObject) => boolean;
}

export interface Watcher {
  close(): void;
}

/** When a write is acknowledged: see StoreOptions.fsync. */
export const fsyncModes = ['interval', 'always'] as const;
export type FsyncMode = (typeof fsyncModes)[number];

export interface StoreOptions {
  /** Events kept (in memory and on disk) for watch replay and consistent continue; default 10000. */
  watchWindow?: number;
  /** Called when a watch callback or filter throws; the store itself carries on. */
  onWatchError?: (err: unknown) => void;
  /** Most writes committed in one batch; default 2000. */
  maxBatch?: number;
  /**
   * When a write is acknowledged:
   * - `'interval'` (default): once the OS has it. It survives a crash or kill -9 of the process; it is
   *   synced to disk within `syncIntervalMs`, so a power loss or OS crash can lose that much. (SQLite in
   *   WAL mode with synchronous=NORMAL, k3s's default store, makes the same trade.)
   * - `'always'`: once it is on disk (fdatasync), as etcd does: it also survives a power loss, and every
   *   write waits for the disk's cache flush.
   */
  fsync?: FsyncMode;
  /** With `fsync: 'interval'`: the longest a write stays off disk, in ms; default 1000. */
  syncIntervalMs?: number;
  /** With `fsync: 'interval'`: after each background sync, its duration and its error if it failed. */
  onSync?: (seconds: number, err?: unknown) => void;
  /**
   * Called after each durable batch with the seconds its write took (with `fsync: 'always'` the disk's
   * share of write latency, what etcd reports as its WAL fsync duration) and how many writes it held;
   * and how long its oldest write waited for the batch to start.
   */
  onCommit?: (seconds: number, writes: number, waitedSeconds: number) => void;
}
