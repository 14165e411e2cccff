// Informer (client-go's reflector + indexer): list, then watch from the list's resourceVersion, keep a local cache,
// and hand add/update/delete to handlers. A broken stream resumes from the last resourceVersion seen; 410 relists and
// emits only the difference; while the apiserver is away, retries back off exponentially with jitter.
import type { KubeObject, Status } from '@knet/api';
import { Backoff, sleep } from './backoff.js';
import { IndexedCache, objectKey, type IndexFunc } from './cache.js';
import type { KubeClient } from './client.js';
import { ApiError, isGone, isStatus, needsRelist } from './errors.js';
import type { ResourceRef } from './resources.js';

/** The part of a pino logger the informer uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  /** When set, every resyncMs each cached object is handed to update handlers as update(obj, obj), as client-go does. */
  resyncMs?: number;
  /** Retry delays while the apiserver is unreachable or failing; default 800 ms doubling to 30 s (client-go's). */
  backoff?: { initialMs: number; maxMs: number };
  log?: Logger;
  /** Page size for the initial list and relists; unset lists in one request. */
  pageSize?: number;
  /** Watch timeoutSeconds range asked of the server, so streams are recycled; default 300-600 s (client-go's). */
  watchTimeoutSeconds?: { min: number; max: number };
  /**
   * Applied to every listed or watched object before it is cached and handed to handlers (client-go's
   * TransformFunc): keep only the fields the consumer reads, so the cache does not hold whole objects.
   * It must keep metadata.name, namespace and resourceVersion.
   */
  transform?: (obj: T) => T;
}

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (obj: T, old: T) => void;
type DeleteHandler<T> = (obj: T) => void;

/** A watch that ends this fast with no event counts as a failure, so a server that hangs up at once is not hammered. */
const shortWatchMs = 1000;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache: IndexedCache<T>;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly handlers = { add: [] as AddHandler<T>[], update: [] as UpdateHandler<T>[], delete: [] as DeleteHandler<T>[] };
  private readonly stopping = new AbortController();
  private rv = '';
  /** Events (including bookmarks) the current watch delivered: progress, which resets the backoff. */
  private watchEvents = 0;
  private synced = false;
  private stopped = false;
  private loop?: Promise<void>;
  private resyncTimer?: NodeJS.Timeout;
  private readonly syncWaiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    private readonly client: KubeClient,
    private readonly resource: ResourceRef,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.cache = new IndexedCache<T>(opts.indexers);
    this.log = opts.log ?? silent;
    this.backoff = new Backoff(opts.backoff ?? { initialMs: 800, maxMs: 30_000 });
  }

  on(event: 'add', h: AddHandler<T>): this;
  on(event: 'update', h: UpdateHandler<T>): this;
  on(event: 'delete', h: DeleteHandler<T>): this;
  on(event: 'add' | 'update' | 'delete', h: AddHandler<T> | UpdateHandler<T> | DeleteHandler<T>): this {
    if (!(event in this.handlers)) throw new TypeError(`unknown informer event ${JSON.stringify(event)}`);
    (this.handlers[event] as unknown[]).push(h);
    // Like client-go's AddEventHandler: a handler added late still hears of every object already cached.
    if (event === 'add') for (const obj of this.cache.list()) this.call(event, h, obj);
    return this;
  }

  start(): void {
    if (this.stopped) throw new Error('informer was stopped; create a new one');
    if (this.loop) return;
    this.loop = this.run();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the cache and its handlers ran; rejects if stopped or aborted first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('informer stopped before it synced'));
    if (signal?.aborted) return Promise.reject(new Error('waitForSync aborted'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.syncWaiters.delete(waiter);
        reject(new Error('waitForSync aborted'));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.syncWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get(namespace: string, name: string): T | undefined {
    return this.cache.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.cache.list(namespace);
  }

  byIndex(index: string, value: string): T[] {
    return this.cache.byIndex(index, value);
  }

  lastResourceVersion(): string {
    return this.rv;
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.loop;
    this.stopped = true;
    this.stopping.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const w of this.syncWaiters) w.reject(new Error('informer stopped before it synced'));
    this.syncWaiters.clear();
    await this.loop;
  }

  close(): Promise<void> {
    return this.stop();
  }

  private get ctx(): object {
    return { component: 'informer', resource: this.resource.plural, namespace: this.opts.namespace };
  }

  private async run(): Promise<void> {
    let needList = true;
    // Relists in a row with no watch event between them: the server, not lost history, keeps refusing our RV.
    let relistsWithoutProgress = 0;
    while (!this.stopped) {
      if (this.client.isClosed) {
        this.log.info(this.ctx, 'client closed; informer ends');
        break;
      }
      this.watchEvents = 0;
      let relistBecause: unknown;
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
          this.backoff.reset();
        }
        const outcome = await this.watchOnce();
        if (outcome === 'gone') relistBecause = 'watch ERROR event: resourceVersion too old';
        else if (outcome === 'short') await this.retryDelay(undefined);
        else this.backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        // A stream that delivered events and then broke is a fresh failure, not the next of a series.
        if (this.watchEvents > 0) this.backoff.reset();
        if (needsRelist(err)) relistBecause = err;
        else await this.retryDelay(err);
      }
      if (this.watchEvents > 0) relistsWithoutProgress = 0;
      if (relistBecause !== undefined && !this.stopped) {
        needList = true;
        this.log.info({ ...this.ctx, resourceVersion: this.rv, reason: errorText(relistBecause) }, 'resourceVersion unusable; relisting');
        if (relistsWithoutProgress++ > 0) await this.retryDelay(relistBecause);
      }
    }
  }

  private async retryDelay(err: unknown): Promise<void> {
    if (this.client.isClosed) return;
    const delayMs = this.backoff.next();
    const reason = err === undefined ? 'watch ended at once' : errorText(err);
    this.log.warn({ ...this.ctx, resourceVersion: this.rv, attempt: this.backoff.attempts, delayMs, reason }, 'apiserver call failed; retrying');
    await sleep(delayMs, this.stopping.signal);
  }

  /** Lists everything and makes the cache equal to it, emitting only the differences. */
  private async listAndReplace(): Promise<void> {
    const base = {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      signal: this.stopping.signal,
    };
    let list;
    try {
      list = await this.client.listAll<T>(this.resource, { ...base, limit: this.opts.pageSize });
    } catch (err) {
      // A continue token can expire between pages; a single unpaged list cannot.
      if (!(this.opts.pageSize && isGone(err))) throw err;
      list = await this.client.list<T>(this.resource, base);
    }
    if (this.stopped) return;
    this.replace(list.items ?? []);
    this.rv = list.metadata?.resourceVersion ?? '';
    this.log.debug({ ...this.ctx, resourceVersion: this.rv, items: this.cache.size }, 'listed');
    if (!this.synced) this.markSynced();
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    const transform = this.opts.transform;
    for (const item of items) {
      const obj = transform ? transform(item) : item;
      seen.add(objectKey(obj));
      this.apply(obj);
    }
    for (const key of [...this.cache.keys()]) {
      if (seen.has(key)) continue;
      const old = this.cache.getByKey(key);
      if (old) {
        this.cache.remove(old);
        this.emit('delete', old);
      }
    }
  }

  /** Stores obj; emits add for a new key, update when the resourceVersion changed, nothing otherwise. */
  private apply(obj: T): void {
    const old = this.cache.upsert(obj);
    if (!old) this.emit('add', obj);
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
  }

  /** One watch stream from the last resourceVersion, until it ends. */
  private async watchOnce(): Promise<'ended' | 'short' | 'gone'> {
    const { min, max } = this.opts.watchTimeoutSeconds ?? { min: 300, max: 600 };
    const started = Date.now();
    let events = 0;
    const stream = this.client.watch<T | Status>(this.resource, {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      resourceVersion: this.rv || undefined,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.floor(min + Math.random() * (max - min + 1)),
      signal: this.stopping.signal,
    });
    for await (const ev of stream) {
      if (this.stopped) return 'ended';
      if (ev.type === 'ERROR') {
        const status = isStatus(ev.object) ? ev.object : undefined;
        if (status && needsRelist(new ApiError(status))) return 'gone';
        throw new ApiError(status ?? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, reason: 'InternalError', message: 'watch ERROR event without a Status' });
      }
      events++;
      this.watchEvents++;
      let obj = ev.object as T;
      const rv = obj.metadata?.resourceVersion;
      if (ev.type === 'BOOKMARK') {
        if (rv) this.rv = rv;
        continue;
      }
      if (!obj.metadata?.name) {
        this.log.warn({ ...this.ctx, type: ev.type }, 'watch event without metadata.name; ignored');
        continue;
      }
      if (this.opts.transform) obj = this.opts.transform(obj);
      if (ev.type === 'DELETED') {
        const old = this.cache.remove(obj);
        // A delete of something never seen (already removed by a relist) would be a duplicate.
        if (old) this.emit('delete', obj);
      } else {
        this.apply(obj);
      }
      if (rv) this.rv = rv;
    }
    if (this.stopped) return 'ended';
    return events === 0 && Date.now() - started < shortWatchMs ? 'short' : 'ended';
  }

  private markSynced(): void {
    this.synced = true;
    for (const w of this.syncWaiters) w.resolve();
    this.syncWaiters.clear();
    if (this.opts.resyncMs && this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.cache.list()) this.emit('update', obj, obj);
      }, this.opts.resyncMs);
    }
  }

  private emit(event: 'add' | 'delete', obj: T): void;
  private emit(event: 'update', obj: T, old: T): void;
  private emit(event: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers[event]) this.call(event, h, obj, old);
  }

  private call(event: string, h: AddHandler<T> | UpdateHandler<T> | DeleteHandler<T>, obj: T, old?: T): void {
    try {
      const r = (h as (a: T, b?: T) => unknown)(obj, old);
      // An async handler's rejection must not become an unhandled rejection that kills the process.
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (err: unknown) => this.handlerFailed(event, obj, err));
      }
    } catch (err) {
      this.handlerFailed(event, obj, err);
    }
  }

  private handlerFailed(event: string, obj: T, err: unknown): void {
    this.log.error({ ...this.ctx, event, key: objectKey(obj), err: errorText(err) }, 'informer handler threw');
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
