// A small in-memory Kubernetes API server for the client's unit tests: list (limit/continue), watch (NDJSON, replay
// from a resourceVersion, 410 past the window, bookmarks, timeoutSeconds), get/create/update/patch/delete.
// It can stop and restart on the same port with its state kept, like an apiserver restart.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { KubeObject, Status, StatusReason, WatchEventType } from '@knet/api';

interface LoggedEvent {
  rv: number;
  plural: string;
  type: WatchEventType;
  object: KubeObject;
}

interface Watcher {
  res: http.ServerResponse;
  plural: string;
  namespace?: string;
  selector: Record<string, string>;
  bookmarks: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  clientCN?: string;
}

export interface FakeTLS {
  key: string;
  cert: string;
  /** When set, the server asks for a client certificate signed by this CA and rejects connections without one. */
  clientCA?: string;
}

export class FakeApiServer {
  port = 0;
  readonly requests: RecordedRequest[] = [];
  /** How an expired resourceVersion on watch is answered: an ERROR event in a 200 stream (real apiserver) or HTTP 410. */
  goneAs: 'event' | 'status' = 'event';
  /** When set, each event line is written in slices of this many bytes. */
  chunkBytes?: number;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  requireToken?: string;
  /** When set, watch requests get this HTTP status (a Status body) instead of a stream. */
  failWatchesWith?: number;
  /** When set, watch requests get this Status (with its code) instead of a stream. */
  failWatchesWithStatus?: Status;

  private server?: http.Server;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly log: LoggedEvent[] = [];
  private rv = 100;
  private compactedBelow = 0;
  private uidSeq = 0;
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly tls?: FakeTLS) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Listens on port 0 the first time, and on the same port after a stop. */
  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    const server = this.tls
      ? https.createServer({ key: this.tls.key, cert: this.tls.cert, ca: this.tls.clientCA, requestCert: !!this.tls.clientCA, rejectUnauthorized: !!this.tls.clientCA }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the listening socket and every connection (watches break mid-stream), keeping the stored state. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.watchers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Ends every open watch cleanly (chunked terminator), as timeoutSeconds would. */
  endWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  watcherCount(plural?: string): number {
    return [...this.watchers].filter((w) => !plural || w.plural === plural).length;
  }

  watchRequests(plural: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && isWatch(r.query) && r.path.endsWith(`/${plural}`));
  }

  listRequests(plural: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && !isWatch(r.query) && r.path.endsWith(`/${plural}`));
  }

  /** Forgets events up to now: watches from an older resourceVersion get 410. */
  compact(): void {
    this.compactedBelow = this.rv;
    this.log.length = 0;
  }

  /** Sends a BOOKMARK with the current resourceVersion to watches that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (w.bookmarks) this.send(w.res, { type: 'BOOKMARK', object: { kind: kindOf(w.plural), apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Advances the resourceVersion without a change this client sees (another resource changed). */
  bumpResourceVersion(n = 1): void {
    this.rv += n;
  }

  // ---- direct state changes, each emitted to watches like an API write would be ----

  put(plural: string, obj: KubeObject): KubeObject {
    const store = this.store(plural);
    const key = keyOf(obj);
    const old = store.get(key);
    const stored: KubeObject = structuredClone(obj);
    stored.metadata.uid = old?.metadata.uid ?? obj.metadata.uid ?? `uid-${++this.uidSeq}`;
    stored.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? '2026-01-01T00:00:00Z';
    stored.metadata.resourceVersion = String(++this.rv);
    store.set(key, stored);
    this.emit(plural, old ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  remove(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const store = this.store(plural);
    const key = namespace ? `${namespace}/${name}` : name;
    const old = store.get(key);
    if (!old) return undefined;
    store.delete(key);
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit(plural, 'DELETED', gone);
    return gone;
  }

  getStored(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store(plural).get(namespace ? `${namespace}/${name}` : name);
  }

  // ---- HTTP ----

  private store(plural: string): Map<string, KubeObject> {
    let s = this.objects.get(plural);
    if (!s) this.objects.set(plural, (s = new Map()));
    return s;
  }

  private emit(plural: string, type: WatchEventType, object: KubeObject): void {
    this.log.push({ rv: this.rv, plural, type, object });
    for (const w of this.watchers) {
      if (w.plural === plural && matches(object, w.namespace, w.selector)) this.send(w.res, { type, object });
    }
  }

  private send(res: http.ServerResponse, ev: unknown): void {
    const buf = Buffer.from(JSON.stringify(ev) + '\n', 'utf8');
    if (!this.chunkBytes) {
      res.write(buf);
      return;
    }
    for (let i = 0; i < buf.length; i += this.chunkBytes) res.write(buf.subarray(i, i + this.chunkBytes));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      if (this.tls?.clientCA) rec.clientCN = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN as string | undefined;
      this.requests.push(rec);
      try {
        this.route(rec, res);
      } catch (err) {
        this.fail(res, 500, 'InternalError', (err as Error).message);
      }
    });
  }

  private route(req: RecordedRequest, res: http.ServerResponse): void {
    if (this.requireToken && req.headers.authorization !== `Bearer ${this.requireToken}`) {
      return this.fail(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const m = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/(.*)$/.exec(req.path);
    if (!m) return this.fail(res, 404, 'NotFound', 'the server could not find the requested resource');
    let segs = m[1].split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      namespace = segs[1];
      segs = segs.slice(2);
    }
    const [plural, name, sub] = segs;
    const store = this.store(plural);
    const key = name ? (namespace ? `${namespace}/${name}` : name) : '';
    const selector = parseSelector(req.query.get('labelSelector') ?? '');

    if (req.method === 'GET' && !name) {
      if (isWatch(req.query)) return this.watch(req, res, plural, namespace, selector);
      return this.list(req, res, plural, namespace, selector);
    }
    if (req.method === 'POST' && !name) {
      const obj = JSON.parse(req.body) as KubeObject;
      const objName = obj.metadata?.name;
      if (!objName) return this.fail(res, 422, 'Invalid', `${plural} is invalid: metadata.name: Required value`);
      if (namespace) obj.metadata.namespace = namespace;
      if (store.has(keyOf(obj))) return this.fail(res, 409, 'AlreadyExists', `${plural} "${objName}" already exists`, objName, plural);
      return this.json(res, 201, this.put(plural, obj));
    }
    const current = store.get(key);
    if (!current) return this.fail(res, 404, 'NotFound', `${plural} "${name}" not found`, name, plural);
    switch (req.method) {
      case 'GET':
        return this.json(res, 200, current);
      case 'PUT': {
        const obj = JSON.parse(req.body) as KubeObject & { status?: unknown };
        const rv = obj.metadata?.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) {
          return this.fail(res, 409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, name, plural);
        }
        const next = sub === 'status' ? { ...structuredClone(current), status: obj.status } : { ...obj, metadata: { ...obj.metadata, namespace } };
        return this.json(res, 200, this.put(plural, next as KubeObject));
      }
      case 'PATCH': {
        const type = req.headers['content-type'] ?? '';
        const patch: unknown = JSON.parse(req.body);
        let next: unknown;
        if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') next = mergePatch(structuredClone(current), patch);
        else if (type === 'application/json-patch+json') next = jsonPatch(structuredClone(current), patch as JsonOp[]);
        else return this.fail(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
        return this.json(res, 200, this.put(plural, next as KubeObject));
      }
      case 'DELETE': {
        const opts = (req.body ? JSON.parse(req.body) : {}) as { preconditions?: { uid?: string; resourceVersion?: string } };
        const pre = opts.preconditions;
        if ((pre?.uid && pre.uid !== current.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
          return this.fail(res, 409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": precondition failed`, name, plural);
        }
        this.remove(plural, namespace, name);
        return this.json(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: plural, uid: current.metadata.uid } });
      }
      default:
        return this.fail(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }

  private list(req: RecordedRequest, res: http.ServerResponse, plural: string, namespace: string | undefined, selector: Record<string, string>): void {
    const limit = Number(req.query.get('limit') ?? 0);
    const cont = req.query.get('continue');
    let after = '';
    let rv = this.rv;
    if (cont) {
      const token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { rv: number; after: string };
      if (token.rv < this.compactedBelow) {
        return this.fail(res, 410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      after = token.after;
      rv = token.rv;
    }
    const all = [...this.store(plural).entries()]
      .filter(([k, o]) => k > after && matches(o, namespace, selector))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const page = limit > 0 ? all.slice(0, limit) : all;
    const metadata: { resourceVersion: string; continue?: string } = { resourceVersion: String(rv) };
    if (limit > 0 && all.length > limit) {
      metadata.continue = Buffer.from(JSON.stringify({ rv, after: page[page.length - 1][0] })).toString('base64');
    }
    this.json(res, 200, { kind: `${kindOf(plural)}List`, apiVersion: 'v1', metadata, items: page.map(([, o]) => o) });
  }

  private watch(req: RecordedRequest, res: http.ServerResponse, plural: string, namespace: string | undefined, selector: Record<string, string>): void {
    if (this.failWatchesWithStatus) return this.json(res, this.failWatchesWithStatus.code, this.failWatchesWithStatus);
    if (this.failWatchesWith) return this.fail(res, this.failWatchesWith, 'InternalError', 'watch refused by the test');
    const from = req.query.get('resourceVersion');
    const fromRV = from && from !== '0' ? Number(from) : undefined;
    const expired = fromRV !== undefined && fromRV < this.compactedBelow;
    if (expired && this.goneAs === 'status') return this.fail(res, 410, 'Expired', `too old resource version: ${fromRV} (${this.compactedBelow})`);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (expired) {
      this.send(res, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${fromRV} (${this.compactedBelow})`) });
      res.end();
      return;
    }
    if (fromRV === undefined) {
      for (const o of this.store(plural).values()) if (matches(o, namespace, selector)) this.send(res, { type: 'ADDED', object: o });
    } else {
      for (const e of this.log) {
        if (e.rv > fromRV && e.plural === plural && matches(e.object, namespace, selector)) this.send(res, { type: e.type, object: e.object });
      }
    }
    const w: Watcher = { res, plural, namespace, selector, bookmarks: req.query.get('allowWatchBookmarks') === 'true' };
    this.watchers.add(w);
    const timeout = Number(req.query.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watchers.delete(w);
    });
  }

  private json(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: http.ServerResponse, code: number, reason: StatusReason, message: string, name?: string, kind?: string): void {
    const s = status(code, reason, message);
    if (name) s.details = { name, kind };
    this.json(res, code, s);
  }
}

function status(code: number, reason: StatusReason, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function isWatch(q: URLSearchParams): boolean {
  const w = q.get('watch');
  return w === 'true' || w === '1';
}

function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata.name ?? '');
}

function kindOf(plural: string): string {
  const kinds: Record<string, string> = { services: 'Service', endpoints: 'Endpoints', pods: 'Pod', nodes: 'Node', namespaces: 'Namespace', endpointslices: 'EndpointSlice' };
  return kinds[plural] ?? plural;
}

/** Equality-only label selectors (`a=b,c==d`), enough for these tests. */
function parseSelector(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').filter(Boolean)) {
    const [k, v] = part.split(/==?/);
    out[k.trim()] = (v ?? '').trim();
  }
  return out;
}

function matches(o: KubeObject, namespace: string | undefined, selector: Record<string, string>): boolean {
  if (namespace && o.metadata.namespace !== namespace) return false;
  const labels = o.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface JsonOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** RFC 6902 add/replace/remove on object members, enough for these tests. */
function jsonPatch(target: unknown, ops: JsonOp[]): unknown {
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error(`bad json patch path ${op.path}`);
    let node = target as Record<string, unknown>;
    for (const p of parts) node = node[p] as Record<string, unknown>;
    if (op.op === 'remove') delete node[last];
    else node[last] = op.value;
  }
  return target;
}
