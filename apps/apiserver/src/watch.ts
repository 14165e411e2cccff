// One HTTP watch stream: newline-delimited JSON events over a chunked response, fed by a store
// watcher. Slow consumers are cut off (bounded buffer), as kube-apiserver does; closing the
// connection closes the store watcher.
import type { ServerResponse } from 'node:http';
import type { KubeObject, Status } from '@knet/api';
import { encodeJSON } from '@knet/store';
import { storeErrorReason, type ObjectStore } from './deps.js';
import { errors } from './status.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type EndReason = 'client' | 'timeout' | 'slow' | 'expired' | 'error' | 'shutdown';

export interface WatchStreamOptions {
  store: ObjectStore;
  resource: string;
  namespace?: string;
  resourceVersion?: string;
  filter?: (o: KubeObject) => boolean;
  allowBookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutMs: number;
  maxBufferedEvents: number;
  /** Renders an event's object for the wire (kind/apiVersion, or a one-row Table). */
  encode: (type: EventType, obj: KubeObject) => unknown;
  /** The object a BOOKMARK carries: only kind, apiVersion and the resourceVersion. */
  bookmark: (resourceVersion: string) => unknown;
  onEnd?: (reason: EndReason) => void;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/**
 * The wire bytes of one event, encoded once for all the streams it goes to: a commit hands the
 * same object to every watcher in turn, so remembering the last object's lines is enough.
 */
let lastObject: KubeObject | undefined;
let lastLines: Partial<Record<EventType, Buffer>> = {};
function eventLine(type: EventType, obj: KubeObject): Buffer {
  if (obj !== lastObject) {
    lastObject = obj;
    lastLines = {};
  }
  return (lastLines[type] ??= Buffer.from(`{"type":"${type}","object":${encodeJSON(obj)}}\n`));
}

export class WatchStream {
  private readonly queue: (string | Buffer)[] = [];
  private waitingDrain = false;
  private ended = false;
  private watcher?: { close(): void };
  private timers: NodeJS.Timeout[] = [];
  private lastRV: string;
  /** Keys currently matching the filter: a MODIFIED that stops matching becomes DELETED. */
  private readonly matching = new Set<string>();

  constructor(private readonly res: ServerResponse, private readonly opts: WatchStreamOptions) {
    this.lastRV = opts.resourceVersion ?? '0';
  }

  async start(): Promise<void> {
    const { res, opts } = this;
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-cache, private');
    res.setHeader('Transfer-Encoding', 'chunked');
    res.flushHeaders();
    res.on('close', () => this.end('client'));
    res.on('drain', () => this.flush());
    this.timers.push(setTimeout(() => this.end('timeout'), opts.timeoutMs));
    if (opts.allowBookmarks) {
      const t = setInterval(() => this.send({ type: 'BOOKMARK', object: opts.bookmark(this.bookmarkRV()) }), opts.bookmarkIntervalMs);
      this.timers.push(t);
    }
    // Without a selector every event passes as the store reports it: no list of matching keys to keep.
    const filter = opts.filter;
    const scope = { ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(filter ? { filter } : {}) };
    let from = opts.resourceVersion;
    try {
      if (!from || from === '0') {
        const listed = await opts.store.list(opts.resource, scope);
        if (this.ended) return;
        for (const o of listed.items) {
          if (filter) this.matching.add(keyOf(o));
          this.sendEvent('ADDED', o);
        }
        from = listed.resourceVersion;
        this.lastRV = from;
      } else if (filter) {
        // resuming: we cannot know what matched before, so start from what matches now
        const listed = await opts.store.list(opts.resource, scope);
        for (const o of listed.items) this.matching.add(keyOf(o));
      }
      if (this.ended) return;
      this.watcher = opts.store.watch(opts.resource, { ...(opts.namespace ? { namespace: opts.namespace } : {}), resourceVersion: from },
        (e) => {
          this.lastRV = e.resourceVersion;
          if (filter) this.onStoreEvent(e.type, e.object, filter);
          else this.sendEvent(e.type, e.object);
        });
    } catch (err) {
      if (storeErrorReason(err) === 'Gone') {
        const msg = err instanceof Error ? err.message : 'too old resource version';
        this.send({ type: 'ERROR', object: errors.expired(msg) satisfies Status });
        this.end('expired');
        return;
      }
      const msg = err instanceof Error ? err.message : String(err);
      this.send({ type: 'ERROR', object: errors.internal(msg) });
      this.end('error');
    }
  }

  private bookmarkRV(): string {
    // every event up to the store's current RV has been handed to us synchronously
    const cur = this.opts.store.resourceVersion();
    return BigInt(cur) > BigInt(this.lastRV || '0') ? cur : this.lastRV;
  }

  private onStoreEvent(type: EventType, obj: KubeObject, filter: (o: KubeObject) => boolean): void {
    const key = keyOf(obj);
    const matches = filter(obj);
    if (type === 'DELETED') {
      if (this.matching.delete(key) || matches) this.sendEvent('DELETED', obj);
      return;
    }
    if (matches) {
      const known = this.matching.has(key);
      this.matching.add(key);
      this.sendEvent(type === 'MODIFIED' && !known ? 'ADDED' : type, obj);
    } else if (this.matching.delete(key)) {
      this.sendEvent('DELETED', obj);
    }
  }

  private sendEvent(type: EventType, obj: KubeObject): void {
    let object: unknown;
    try {
      object = this.opts.encode(type, obj);
    } catch (err) {
      this.send({ type: 'ERROR', object: errors.internal(err instanceof Error ? err.message : String(err)) });
      this.end('error');
      return;
    }
    // the object itself (not a Table): the same bytes as every other stream sends
    if (object === obj) this.write(eventLine(type, obj));
    else this.send({ type, object });
  }

  private send(event: unknown): void {
    this.write(JSON.stringify(event) + '\n');
  }

  private write(line: string | Buffer): void {
    if (this.ended) return;
    if (this.waitingDrain) {
      if (this.queue.length >= this.opts.maxBufferedEvents) {
        this.end('slow');
        return;
      }
      this.queue.push(line);
      return;
    }
    if (!this.res.write(line)) this.waitingDrain = true;
  }

  private flush(): void {
    this.waitingDrain = false;
    while (this.queue.length > 0 && !this.ended) {
      const line = this.queue.shift()!;
      if (!this.res.write(line)) {
        this.waitingDrain = true;
        return;
      }
    }
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.watcher?.close();
    this.queue.length = 0;
    if (reason === 'slow') this.res.destroy();
    // on shutdown the connection goes too, so the server is not held open by an idle keep-alive
    else if (reason === 'shutdown') this.res.end(() => this.res.socket?.end());
    else if (!this.res.writableEnded) this.res.end();
    this.opts.onEnd?.(reason);
  }
}
