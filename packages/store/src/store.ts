// The versioned object store: one resourceVersion counter across all
// resources, an in-memory copy of every object for fast reads, level as the
// durable copy, and a window of recent writes for watch replay.
//
// Writes go through one writer (so conflict checks and RV assignment are
// atomic) with group commit: writes queued while a batch is being written are
// checked in order against the committed state plus the batch so far, then
// written as ONE level batch (objects + event-log entries + RV counter) and
// acknowledged together once durable: on disk with `fsync: 'always'`, handed to
// the OS (and on disk within a second) with `fsync: 'interval'`.

import { randomUUID } from 'node:crypto';
import { Level } from 'level';
import type { KubeObject } from '@knet/api';
import { decodeContinue, encodeContinue } from './continue-token.js';
import {
  alreadyExists,
  conflict,
  CONTINUE_TOO_OLD,
  notFound,
  preconditionFailed,
  StoreError,
  storageError,
  tooOldResourceVersion,
} from './errors.js';
import { encodeJSON, rememberJSON } from './encoded.js';
import { EventWindow, type LogEntry } from './event-window.js';
import {
  checkKeyParts,
  EVENT_END,
  EVENT_PREFIX,
  eventKey,
  META_RV_KEY,
  memKey,
  OBJECT_END,
  OBJECT_PREFIX,
  objectKey,
  parseEventKey,
  parseObjectKey,
  parseResourceVersion,
} from './keys.js';
import { keyOf, lowerBound, ResourceObjects, snapshotAt } from './object-index.js';
import { copyWithText, deepFreeze, generateName, jsonCopy, timestampNow, withResourceVersion } from './objects.js';
import { fsyncModes, type ListOptions, type ListResult, type StoreEvent, type StoreOptions, type Watcher, type WatchOptions } from './types.js';
import { WatchHub } from './watch-hub.js';
import { LogSyncer } from './log-sync.js';

const DEFAULT_WATCH_WINDOW = 10000;
const DEFAULT_MAX_BATCH = 2000;
const DEFAULT_SYNC_INTERVAL_MS = 1000;
const GENERATE_NAME_ATTEMPTS = 16;
const GUARANTEED_UPDATE_ATTEMPTS = 100;

type Db = Level<string, string>;

/**
 * A 32 MiB memtable instead of LevelDB's 4 MiB. When the memtable fills while the one before is
 * still being written out as a table (whose fdatasync waits for the disk), every write waits
 * ("Current memtable full; waiting..." in LevelDB's LOG). At 200 readiness flips/s (~7 MB/s of log)
 * a 4 MiB memtable fills in 0.6 s, and this VM's disk flushes stall for up to 1.4 s now and then: a
 * write acknowledged without fsync took 880 ms. 32 MiB takes ~5 s to fill. It costs memory only
 * while writes come faster than the memtable is written out.
 */
const LEVEL_OPTIONS = { keyEncoding: 'utf8', valueEncoding: 'utf8', writeBufferSize: 32 * 1024 * 1024 } as const;
type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** A write as decided by the writer: what to store and what to answer. */
type Outcome = { write: LogEntry } | { answer: KubeObject };

/** Objects as the writer sees them: committed state overlaid with the batch so far. */
interface WriterView {
  get(resource: string, namespace: string, name: string): KubeObject | undefined;
}

/** An event entry as stored: the object's key and prev; `object` only in entries of earlier versions. */
interface StoredEntry {
  rv: number;
  type: LogEntry['type'];
  resource: string;
  namespace?: string;
  name?: string;
  object?: KubeObject;
  prev?: KubeObject;
}

interface PendingWrite {
  /** performance.now() when queued: the commit reports how long its oldest write waited to start. */
  queuedAt: number;
  decide(view: WriterView, rv: number): Outcome;
  resolve(obj: KubeObject): void;
  reject(err: unknown): void;
}

export class Store {
  private readonly objects = new Map<string, ResourceObjects>();
  private readonly window: EventWindow;
  private readonly hub: WatchHub;
  private readonly maxBatch: number;
  private readonly onCommit: StoreOptions['onCommit'];
  /** With `fsync: 'interval'`: puts what was written on disk; undefined when every commit is synced. */
  private logSync: LogSyncer | undefined;
  private rv = 0;
  private queue: PendingWrite[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  /**
   * Why the last batch failed, until level is reopened. LevelDB keeps a failed log append (e.g. a
   * full disk) as a hole it does not know about: later writes would be acknowledged yet lost on the
   * next open. So after a failure the next write reopens the database first (which replays the log
   * without the torn record), and fails as long as that does not work.
   */
  private broken: unknown;

  private constructor(
    private db: Db,
    private readonly dir: string,
    opts: StoreOptions,
  ) {
    this.window = new EventWindow(opts.watchWindow ?? DEFAULT_WATCH_WINDOW);
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.onCommit = opts.onCommit;
    this.hub = new WatchHub(opts.onWatchError ?? (() => {}));
  }

  static async open(dir: string, opts: StoreOptions = {}): Promise<Store> {
    const window = opts.watchWindow ?? DEFAULT_WATCH_WINDOW;
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new StoreError('StorageError', `watchWindow must be a positive integer, got ${window}`);
    }
    const fsync = opts.fsync ?? 'interval';
    if (!fsyncModes.includes(fsync)) {
      throw new StoreError('StorageError', `fsync must be "always" or "interval", got ${JSON.stringify(fsync)}`);
    }
    const syncIntervalMs = opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    if (!Number.isSafeInteger(syncIntervalMs) || syncIntervalMs < 1) {
      throw new StoreError('StorageError', `syncIntervalMs must be a positive integer, got ${syncIntervalMs}`);
    }
    let db: Db;
    try {
      db = new Level<string, string>(dir, LEVEL_OPTIONS);
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw storageError(`cannot open store at ${dir}`, cause ?? err);
    }
    const store = new Store(db, dir, opts);
    try {
      await store.load();
    } catch (err) {
      await db.close().catch(() => {});
      throw err instanceof StoreError ? err : storageError(`cannot load store at ${dir}`, err);
    }
    if (fsync === 'interval') store.logSync = new LogSyncer(dir, store.rv, { intervalMs: syncIntervalMs, onSync: opts.onSync });
    return store;
  }

  private async load(): Promise<void> {
    const rvText = await this.db.get(META_RV_KEY);
    this.rv = rvText === undefined ? 0 : Number(rvText);
    if (!Number.isSafeInteger(this.rv) || this.rv < 0) {
      throw storageError(`store is corrupt: resourceVersion counter is "${rvText}"`);
    }

    for await (const [key, value] of this.db.iterator({ gt: OBJECT_PREFIX, lt: OBJECT_END })) {
      const parts = parseObjectKey(key);
      if (parts === undefined) throw storageError(`store is corrupt: bad object key ${JSON.stringify(key)}`);
      const obj = deepFreeze(parseStored(value, key));
      rememberJSON(obj, value); // written by JSON.stringify, so parsing and writing it again gives the same text
      this.resourceObjects(parts.resource).set(memKey(parts.namespace, parts.name), obj);
    }

    // The log is contiguous up to the counter; keep the newest `capacity` entries
    // (the window may have shrunk since the last run) and drop the rest on disk.
    const first = Math.max(1, this.rv - this.window.capacity + 1);
    let stored: StoredEntry[] = [];
    for await (const [key, value] of this.db.iterator({ gte: eventKey(first), lt: EVENT_END })) {
      const rv = parseEventKey(key);
      if (rv === undefined || rv > this.rv) throw storageError(`store is corrupt: bad event key ${JSON.stringify(key)}`);
      const e = parseStored(value, key) as unknown as StoredEntry;
      e.rv = rv;
      if (stored.length > 0 && stored[stored.length - 1].rv + 1 !== rv) stored = []; // keep the gap-free tail
      stored.push(e);
    }
    if (stored.length > 0 && stored[stored.length - 1].rv === this.rv) {
      for (const e of this.rebuildEntries(stored)) this.window.push(e);
    }
    await this.db.clear({ gte: EVENT_PREFIX, lt: eventKey(first) });
  }

  /**
   * The window's entries from the stored log, oldest first. An entry stores its object's state
   * before the write (prev) but not after it: that is the prev of the key's next entry, or the
   * current object, or (DELETED) prev at the deleting resourceVersion. So they are rebuilt from
   * the newest back; the entries before one that cannot be (not expected) are left out of the window.
   * Entries written before this format carry their object and are taken as they are.
   */
  private rebuildEntries(stored: StoredEntry[]): LogEntry[] {
    const later = new Map<string, KubeObject | undefined>(); // object key → state before the entries walked so far
    const entries: LogEntry[] = [];
    for (let i = stored.length - 1; i >= 0; i--) {
      const e = stored[i];
      const prev = e.prev === undefined ? undefined : this.sharedCopy(e.resource, e.prev);
      let object: KubeObject | undefined;
      if (e.object !== undefined) {
        object = this.sharedCopy(e.resource, e.object);
      } else if (e.type === 'DELETED') {
        object = prev && withResourceVersion(prev, String(e.rv));
      } else {
        const key = objectKey(e.resource, e.namespace ?? '', e.name ?? '');
        object = later.has(key) ? later.get(key) : this.objects.get(e.resource)?.get(memKey(e.namespace ?? '', e.name ?? ''));
      }
      if (object === undefined || object.metadata.resourceVersion !== String(e.rv) || (e.type !== 'ADDED' && prev === undefined)) break;
      later.set(objectKey(e.resource, object.metadata.namespace ?? '', object.metadata.name ?? ''), prev);
      const entry: LogEntry = { rv: e.rv, type: e.type, resource: e.resource, object };
      if (prev !== undefined) entry.prev = prev;
      entries.push(entry);
    }
    return entries.reverse();
  }

  /** The loaded object itself when it is the current state (as in a running store), else a frozen copy. */
  private sharedCopy(resource: string, obj: KubeObject): KubeObject {
    const live = this.objects.get(resource)?.get(keyOf(obj));
    if (live !== undefined && live.metadata.resourceVersion === obj.metadata.resourceVersion) return live;
    return deepFreeze(obj);
  }

  /** The current (highest committed) resourceVersion. */
  resourceVersion(): string {
    return String(this.rv);
  }

  /** The highest resourceVersion on disk: all of them with `fsync: 'always'`, with `'interval'` those synced so far. */
  syncedResourceVersion(): string {
    return String(this.logSync?.syncedThrough() ?? this.rv);
  }

  /** Puts every acknowledged write on disk now (with `fsync: 'always'` they are already). */
  async sync(): Promise<void> {
    await this.logSync?.sync();
  }

  async create(resource: string, obj: KubeObject): Promise<KubeObject> {
    const draft = jsonCopy(obj); // the caller may change obj once we return
    const namespace = draft.metadata.namespace ?? '';
    return this.enqueue((view, rv) => {
      let name = draft.metadata.name ?? '';
      const prefix = draft.metadata.generateName;
      if (name === '' && prefix !== undefined && prefix !== '') {
        for (let i = 0; i < GENERATE_NAME_ATTEMPTS; i++) {
          name = generateName(prefix);
          if (view.get(resource, namespace, name) === undefined) break;
        }
      }
      checkKeyParts(resource, namespace, name);
      if (view.get(resource, namespace, name) !== undefined) throw alreadyExists(resource, name);
      draft.metadata = {
        ...draft.metadata,
        name,
        uid: randomUUID(),
        creationTimestamp: timestampNow(),
        resourceVersion: String(rv),
      };
      return { write: { rv, type: 'ADDED', resource, object: deepFreeze(draft) } };
    });
  }

  async get(resource: string, namespace: string, name: string): Promise<KubeObject> {
    this.assertOpen();
    const obj = this.objects.get(resource)?.get(memKey(namespace, name));
    if (obj === undefined) throw notFound(resource, name);
    return obj;
  }

  async list(resource: string, opts: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const current = this.objects.get(resource) ?? new ResourceObjects();
    let rv = this.rv;
    let after: string | undefined;
    if (opts.continue !== undefined && opts.continue !== '') {
      const point = decodeContinue(opts.continue);
      if (point.rv > this.rv || point.rv < this.window.lowestResumableRV(this.rv)) {
        throw new StoreError('Gone', CONTINUE_TOO_OLD);
      }
      rv = point.rv;
      after = point.after;
    }
    const source = rv === this.rv ? current : snapshotAt(current, resource, this.window.since(rv));
    const keys = source.sortedKeys();

    let i = 0;
    let end = keys.length;
    if (opts.namespace !== undefined) {
      // Keys of one namespace are the contiguous run [ns + '/', ns + '0'): '0' follows '/'.
      i = lowerBound(keys, `${opts.namespace}/`, true);
      end = lowerBound(keys, `${opts.namespace}0`, true);
    }
    if (after !== undefined) i = Math.max(i, lowerBound(keys, after, false));

    const limit = opts.limit !== undefined && opts.limit > 0 ? Math.floor(opts.limit) : Infinity;
    const filter = opts.filter;
    const items: KubeObject[] = [];
    for (; i < end; i++) {
      const obj = source.get(keys[i]) as KubeObject;
      if (filter !== undefined && !filter(obj)) continue;
      items.push(obj);
      if (items.length >= limit) break;
    }
    const result: ListResult = { items, resourceVersion: String(rv) };
    if (i < end) {
      // The page is full; say "continue" only if something would follow it.
      let more: boolean;
      if (filter === undefined) {
        more = end - i - 1 > 0;
        if (more) result.remainingItemCount = end - i - 1;
      } else {
        more = false;
        for (let j = i + 1; j < end && !more; j++) more = filter(source.get(keys[j]) as KubeObject);
      }
      if (more) result.continue = encodeContinue({ rv, after: keys[i] });
    }
    return result;
  }

  async update(resource: string, obj: KubeObject): Promise<KubeObject> {
    const { copy: draft, text } = copyWithText(obj);
    return this.enqueue((view, rv) => this.decideUpdate(view, rv, resource, draft, text));
  }

  /** `text`, when given, is JSON.stringify(draft) as the writer gets it. */
  private decideUpdate(view: WriterView, rv: number, resource: string, draft: KubeObject, text?: string): Outcome {
    const namespace = draft.metadata.namespace ?? '';
    const name = draft.metadata.name ?? '';
    const cur = view.get(resource, namespace, name);
    if (cur === undefined) throw notFound(resource, name);
    const m = draft.metadata;
    const wanted = m.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== cur.metadata.resourceVersion) {
      throw conflict(resource, name);
    }
    // As Kubernetes does, an update that changes nothing writes nothing. Usually the draft carries
    // the stored uid, creationTimestamp and resourceVersion already: then its text is the one to compare.
    const asStored = text !== undefined && m.uid !== undefined && m.uid === cur.metadata.uid &&
      m.creationTimestamp !== undefined && m.creationTimestamp === cur.metadata.creationTimestamp &&
      m.resourceVersion !== undefined && m.resourceVersion === cur.metadata.resourceVersion;
    if (!asStored) {
      draft.metadata = {
        ...m,
        uid: cur.metadata.uid,
        creationTimestamp: cur.metadata.creationTimestamp,
        resourceVersion: cur.metadata.resourceVersion,
      };
    }
    if ((asStored ? text : JSON.stringify(draft)) === encodeJSON(cur)) return { answer: cur };
    draft.metadata.resourceVersion = String(rv);
    return { write: { rv, type: 'MODIFIED', resource, object: deepFreeze(draft), prev: cur } };
  }

  async delete(
    resource: string,
    namespace: string,
    name: string,
    precondition?: { uid?: string; resourceVersion?: string },
  ): Promise<KubeObject> {
    return this.enqueue((view, rv) => {
      const cur = view.get(resource, namespace, name);
      if (cur === undefined) throw notFound(resource, name);
      const uid = precondition?.uid;
      if (uid !== undefined && uid !== '' && uid !== cur.metadata.uid) {
        throw preconditionFailed('UID', uid, cur.metadata.uid ?? '');
      }
      const wanted = precondition?.resourceVersion;
      if (wanted !== undefined && wanted !== '' && wanted !== cur.metadata.resourceVersion) {
        throw preconditionFailed('ResourceVersion', wanted, cur.metadata.resourceVersion ?? '');
      }
      return { write: { rv, type: 'DELETED', resource, object: withResourceVersion(cur, String(rv)), prev: cur } };
    });
  }

  /**
   * Read-modify-write. `fn` gets a mutable copy of the current object; what it
   * returns is stored if nobody wrote the object in between, else `fn` runs
   * again on the newer state. If `fn` sets a resourceVersion other than the one
   * it was given, that is a precondition: Conflict, not retried.
   */
  async guaranteedUpdate(
    resource: string,
    namespace: string,
    name: string,
    fn: (cur: KubeObject) => KubeObject | Promise<KubeObject>,
  ): Promise<KubeObject> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.get(resource, namespace, name);
      const next = jsonCopy(await fn(jsonCopy(cur)));
      const wanted = next.metadata.resourceVersion;
      if (wanted !== undefined && wanted !== '' && wanted !== cur.metadata.resourceVersion) {
        throw conflict(resource, name);
      }
      // The key is the one asked for, whatever fn did to the metadata.
      next.metadata.name = name;
      if (cur.metadata.namespace === undefined) delete next.metadata.namespace;
      else next.metadata.namespace = cur.metadata.namespace;
      next.metadata.resourceVersion = cur.metadata.resourceVersion;
      try {
        return await this.enqueue((view, rv) => this.decideUpdate(view, rv, resource, next));
      } catch (err) {
        // Writes are acknowledged per batch, so the conflicting write is committed: re-read sees it.
        if (!(err instanceof StoreError && err.reason === 'Conflict') || attempt >= GUARANTEED_UPDATE_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Events of `resource` in commit order. With a resourceVersion, first the
   * window's events after it (Gone if the window no longer reaches back that
   * far), then live ones; without one (or '0'), from now. Callbacks run
   * synchronously after the write is durable; replay starts on a microtask.
   */
  watch(resource: string, opts: WatchOptions = {}, onEvent: (e: StoreEvent) => void): Watcher {
    this.assertOpen();
    if (typeof onEvent !== 'function') throw new StoreError('StorageError', 'watch needs an event callback');
    const requested = parseResourceVersion(opts.resourceVersion);
    let afterRV = this.rv;
    let replay: LogEntry[] = [];
    if (requested !== undefined && requested !== 0) {
      const lowest = this.window.lowestResumableRV(this.rv);
      if (requested < lowest) throw tooOldResourceVersion(requested, lowest);
      // An RV ahead of ours has not happened yet: deliver what comes after it.
      afterRV = requested;
      if (requested < this.rv) replay = this.window.since(requested).filter((e) => e.resource === resource);
    }
    return this.hub.add({ resource, namespace: opts.namespace, filter: opts.filter, afterRV }, onEvent, replay);
  }

  /** Finishes the writes already queued, stops every watcher, closes level. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        while (this.writing !== undefined) await this.writing;
        this.hub.closeAll();
        await this.logSync?.close().catch(() => {}); // reported through onSync
        await this.db.close();
      })();
    }
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('StorageError', 'store is closed');
  }

  /** Opens level afresh after a failed write; throws (and stays broken) while it cannot. */
  private async reopen(): Promise<void> {
    await this.db.close().catch(() => {});
    const db = new Level<string, string>(this.dir, LEVEL_OPTIONS);
    this.db = db;
    try {
      await db.open();
    } catch (err) {
      throw (err as { cause?: unknown }).cause ?? err;
    }
    // What is on disk must be what was acknowledged: the counter is the last committed write's.
    const onDisk = await db.get(META_RV_KEY);
    if ((onDisk ?? '0') !== String(this.rv)) {
      throw storageError(`store on disk is at resourceVersion ${onDisk}, expected ${this.rv}`);
    }
    this.broken = undefined;
  }

  private resourceObjects(resource: string): ResourceObjects {
    let r = this.objects.get(resource);
    if (r === undefined) this.objects.set(resource, (r = new ResourceObjects()));
    return r;
  }

  private enqueue(decide: PendingWrite['decide']): Promise<KubeObject> {
    if (this.closed) return Promise.reject(new StoreError('StorageError', 'store is closed'));
    return new Promise<KubeObject>((resolve, reject) => {
      this.queue.push({ queuedAt: performance.now(), decide, resolve, reject });
      if (this.writing === undefined) this.writing = this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    // Let the writes issued in this turn of the event loop join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    for (;;) {
      // Checked and cleared in one synchronous step, so a write queued after
      // this point always finds no loop running and starts one.
      if (this.queue.length === 0) {
        this.writing = undefined;
        return;
      }
      const writes = this.queue.splice(0, this.maxBatch);
      try {
        await this.commit(writes);
      } catch (err) {
        // Not expected (commit handles level's errors); never leave writers hanging.
        const failure = storageError('write failed', err);
        for (const w of writes) w.reject(failure);
      }
    }
  }

  private async commit(writes: PendingWrite[]): Promise<void> {
    const waitedMs = performance.now() - writes[0].queuedAt;
    const overlay = new Map<string, KubeObject | null>();
    const view: WriterView = {
      get: (resource, namespace, name) => {
        const o = overlay.get(objectKey(resource, namespace, name));
        if (o !== undefined) return o ?? undefined;
        return this.objects.get(resource)?.get(memKey(namespace, name));
      },
    };
    const outcomes: (Outcome | { error: unknown })[] = [];
    const entries: LogEntry[] = [];
    const ops: BatchOp[] = [];
    let rv = this.rv;
    for (const w of writes) {
      let outcome: Outcome;
      try {
        outcome = w.decide(view, rv + 1);
      } catch (err) {
        outcomes.push({ error: err instanceof StoreError ? err : storageError('write failed', err) });
        continue;
      }
      outcomes.push(outcome);
      if (!('write' in outcome)) continue;
      const e = outcome.write;
      rv = e.rv;
      entries.push(e);
      const meta = e.object.metadata;
      const key = objectKey(e.resource, meta.namespace ?? '', meta.name ?? '');
      const objectJson = JSON.stringify(e.object);
      rememberJSON(e.object, objectJson);
      if (e.type === 'DELETED') {
        overlay.set(key, null);
        ops.push({ type: 'del', key });
      } else {
        overlay.set(key, e.object);
        ops.push({ type: 'put', key, value: objectJson });
      }
      // The entry names its object but holds only the state before the write: the state after it is
      // stored already (the object's own key, then the next entry's prev). A third fewer bytes to sync.
      // prev is the stored object: its text is remembered, not serialized again.
      const prevJson = e.prev === undefined ? '' : `,"prev":${encodeJSON(e.prev)}`;
      ops.push({
        type: 'put',
        key: eventKey(rv),
        value: `{"type":"${e.type}","resource":${JSON.stringify(e.resource)},"namespace":${JSON.stringify(meta.namespace ?? '')},"name":${JSON.stringify(meta.name ?? '')}${prevJson}}`,
      });
      if (rv - this.window.capacity >= 1) ops.push({ type: 'del', key: eventKey(rv - this.window.capacity) });
    }

    let writtenMs: number | undefined;
    if (ops.length > 0) {
      ops.push({ type: 'put', key: META_RV_KEY, value: String(rv) });
      try {
        if (this.broken !== undefined) await this.reopen();
        const started = performance.now();
        await writeBatch(this.db, ops, this.logSync === undefined);
        writtenMs = performance.now() - started;
      } catch (err) {
        this.broken ??= err;
        const failure = storageError('write was not stored', err);
        for (const w of writes) w.reject(failure);
        return;
      }
    }

    // Durable: make it visible, tell the watchers in commit order, then answer.
    for (const e of entries) {
      const objs = this.resourceObjects(e.resource);
      if (e.type === 'DELETED') objs.delete(keyOf(e.object));
      else objs.set(keyOf(e.object), e.object);
      this.window.push(e);
    }
    this.rv = rv;
    if (ops.length > 0) this.logSync?.wrote(rv);
    for (const e of entries) this.hub.publish(e);
    writes.forEach((w, i) => {
      const o = outcomes[i];
      if ('error' in o) w.reject(o.error);
      else if ('write' in o) w.resolve(o.write.object);
      else w.resolve(o.answer);
    });
    if (writtenMs !== undefined && this.onCommit) {
      try {
        this.onCommit(writtenMs / 1000, writes.length, waitedMs / 1000);
      } catch {
        // an observer's failure is not the store's
      }
    }
  }
}

/**
 * One level write, synced to disk or only to the OS. Through a chained batch: level's array form clones
 * and re-validates every operation, which cost twice the CPU per create of this (30 creates per batch).
 */
async function writeBatch(db: Db, ops: BatchOp[], sync: boolean): Promise<void> {
  const batch = db.batch(); // throws unless level is open; then put/del of string keys cannot throw
  for (const op of ops) {
    if (op.type === 'put') batch.put(op.key, op.value);
    else batch.del(op.key);
  }
  await batch.write({ sync });
}

function parseStored(value: string, key: string): KubeObject {
  try {
    return JSON.parse(value) as KubeObject;
  } catch {
    throw storageError(`store is corrupt: value of ${JSON.stringify(key)} is not JSON`);
  }
}
