// KubeClient: the Kubernetes REST API over undici (keep-alive pools), with streaming watches.
import { Pool, request } from '@knet/component/undici';
import type { KubeList, KubeObject, WatchEvent } from '@knet/api';
import { apiErrorFromResponse } from './errors.js';
import { LineSplitter } from './ndjson.js';
import { resourcePath, type ResourceRef } from './resources.js';
import { textRequest } from './text-request.js';

export interface ClusterConfig {
  /** `https://127.0.0.1:6443` or `http://...`; a path after the host is kept as a prefix. */
  server: string;
  token?: string;
  /** PEM bundle of the CA(s) that signed the server's certificate. */
  caData?: string;
  /** PEM client certificate and key for mutual TLS. */
  certData?: string;
  keyData?: string;
  insecureSkipTLSVerify?: boolean;
  /** Default namespace of the kubeconfig context (informational: calls always name their namespace). */
  namespace?: string;
}

export interface ClientOptions {
  /** Cap on keep-alive connections for ordinary requests (watches use their own, uncapped pool). */
  connections?: number;
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends CallOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface WriteOptions extends CallOptions {
  subresource?: 'status';
}

export interface DeleteOptions extends CallOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';

const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export class KubeClient {
  readonly server: string;
  private readonly prefix: string;
  private readonly pool: Pool;
  /** Watches hold a connection for minutes; a separate pool keeps them from starving ordinary calls. */
  private readonly watchPool: Pool;
  private readonly headers: Record<string, string>;
  private readonly activeWatches = new Set<AbortController>();
  private closed = false;

  /** True once close() was called: every call then fails, and informers on this client end. */
  get isClosed(): boolean {
    return this.closed;
  }

  constructor(cfg: ClusterConfig, opts: ClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(cfg.server);
    } catch {
      throw new TypeError(`invalid server URL ${JSON.stringify(cfg.server)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`server URL must be http:// or https://, got ${JSON.stringify(cfg.server)}`);
    }
    this.server = cfg.server;
    this.prefix = url.pathname.replace(/\/+$/, '');
    const connect =
      url.protocol === 'https:'
        ? {
            ca: cfg.caData,
            cert: cfg.certData,
            key: cfg.keyData,
            rejectUnauthorized: !cfg.insecureSkipTLSVerify,
          }
        : undefined;
    this.pool = new Pool(url.origin, { connections: opts.connections ?? null, connect, keepAliveTimeout: 30_000 });
    // No body timeout on watches: a quiet watch is healthy; the server's timeoutSeconds ends it.
    this.watchPool = new Pool(url.origin, { connect, bodyTimeout: 0, keepAliveTimeout: 30_000 });
    this.headers = { accept: 'application/json', 'user-agent': opts.userAgent ?? 'knet-client/0.1' };
    if (cfg.token) this.headers.authorization = `Bearer ${cfg.token}`;
  }

  async get<T extends KubeObject = KubeObject>(r: ResourceRef, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T> {
    return (await this.call({ method: 'GET', path: resourcePath(r, namespace, name), signal: opts.signal })) as T;
  }

  async list<T extends KubeObject = KubeObject>(r: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    const { namespace, signal, ...q } = opts;
    return (await this.call({ method: 'GET', path: resourcePath(r, namespace), query: q, signal })) as KubeList<T>;
  }

  /** Every page of a list (following `continue`), as one list with the first page's resourceVersion. */
  async listAll<T extends KubeObject = KubeObject>(r: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    const first = await this.list<T>(r, opts);
    const items = [...first.items];
    let cont = first.metadata?.continue;
    while (cont) {
      const page = await this.list<T>(r, { ...opts, resourceVersion: undefined, continue: cont });
      items.push(...page.items);
      cont = page.metadata?.continue;
    }
    return { ...first, metadata: { resourceVersion: first.metadata?.resourceVersion }, items };
  }

  async create<T extends KubeObject = KubeObject>(r: ResourceRef, namespace: string | undefined, obj: T, opts: CallOptions = {}): Promise<T> {
    return (await this.call({ method: 'POST', path: resourcePath(r, namespace), body: obj, signal: opts.signal })) as T;
  }

  /** PUT; the name comes from obj.metadata.name, and a stale resourceVersion fails with 409 Conflict. */
  async update<T extends KubeObject = KubeObject>(r: ResourceRef, namespace: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new TypeError(`update of ${r.plural} needs metadata.name`);
    const path = resourcePath(r, namespace ?? obj.metadata.namespace, name, opts.subresource);
    return (await this.call({ method: 'PUT', path, body: obj, signal: opts.signal })) as T;
  }

  async patch<T extends KubeObject = KubeObject>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    opts: WriteOptions = {},
  ): Promise<T> {
    const contentType = patchContentType[type];
    if (!contentType) throw new TypeError(`unknown patch type ${JSON.stringify(type)}: use merge, json or strategic`);
    const path = resourcePath(r, namespace, name, opts.subresource);
    return (await this.call({ method: 'PATCH', path, body: patch, contentType, signal: opts.signal })) as T;
  }

  async delete(r: ResourceRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    await this.call({ method: 'DELETE', path: resourcePath(r, namespace, name), body, signal: opts.signal });
  }

  /**
   * Streams watch events as they arrive (newline-delimited JSON). Ends when the server ends the stream, or quietly when
   * `signal` aborts or the client closes. A non-200 answer throws ApiError (410 when the resourceVersion is too old);
   * an ERROR event is yielded as is, its object being the Status.
   */
  async *watch<T = KubeObject>(r: ResourceRef, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.closed) throw new Error('KubeClient is closed');
    const { namespace, signal, ...q } = opts;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    if (signal?.aborted) return;
    signal?.addEventListener('abort', onAbort, { once: true });
    this.activeWatches.add(ac);
    try {
      let res;
      try {
        res = await request(this.watchPool, {
          method: 'GET',
          path: this.prefix + resourcePath(r, namespace) + queryString({ ...q, watch: true }),
          headers: this.headers,
          signal: ac.signal,
        });
      } catch (err) {
        if (ac.signal.aborted) return;
        throw err;
      }
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        throw apiErrorFromResponse(res.statusCode, text);
      }
      const lines = new LineSplitter();
      try {
        for await (const chunk of res.body) {
          for (const line of lines.push(chunk as Buffer)) yield parseEvent<T>(line);
        }
        for (const line of lines.flush()) yield parseEvent<T>(line);
      } catch (err) {
        if (ac.signal.aborted) return;
        throw err;
      } finally {
        // Reached early when the consumer stops iterating: drop the connection rather than drain a stream.
        if (!res.body.destroyed) res.body.destroy();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.activeWatches.delete(ac);
    }
  }

  /** Any other API path (`/version`, `/healthz`, discovery), JSON in and out, errors as ApiError. */
  async raw<T = unknown>(
    method: RawRequest['method'],
    path: string,
    opts: CallOptions & { query?: RawRequest['query']; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    if (!path.startsWith('/')) throw new TypeError(`raw path must start with "/", got ${JSON.stringify(path)}`);
    return (await this.call({ method, path, ...opts })) as T;
  }

  /** Ends open watches and closes the connection pools. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ac of this.activeWatches) ac.abort();
    await Promise.all([this.pool.close(), this.watchPool.destroy()]);
  }

  private async call(req: RawRequest): Promise<unknown> {
    if (this.closed) throw new Error('KubeClient is closed');
    const headers = { ...this.headers };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = req.contentType ?? 'application/json';
    }
    const res = await textRequest(this.pool, {
      method: req.method,
      path: this.prefix + req.path + queryString(req.query ?? {}),
      headers,
      body,
      signal: req.signal,
    });
    const { text } = res;
    if (res.statusCode < 200 || res.statusCode >= 300) throw apiErrorFromResponse(res.statusCode, text);
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${req.method} ${req.path}: the server answered ${res.statusCode} with a body that is not JSON`);
    }
  }
}

function queryString(q: Record<string, string | number | boolean | undefined>): string {
  // Made only when there is a parameter: most calls (every PUT) have none.
  let params: URLSearchParams | undefined;
  for (const k in q) {
    const v = q[k];
    if (v === undefined || v === '') continue;
    (params ??= new URLSearchParams()).set(k, typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v));
  }
  const s = params?.toString();
  return s ? `?${s}` : '';
}

const eventTypes = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function parseEvent<T>(line: string): WatchEvent<T> {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    throw new Error(`watch stream carried a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const e = ev as { type?: unknown; object?: unknown };
  if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || !eventTypes.has(e.type) || typeof e.object !== 'object' || e.object === null) {
    throw new Error(`watch stream carried a malformed event: ${line.slice(0, 200)}`);
  }
  return ev as WatchEvent<T>;
}

