// The apiserver's HTTP surface on express: discovery, OpenAPI, health, metrics, and the REST
// handlers for every registered resource. Errors always leave as meta/v1 Status JSON.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from 'pino';
import { strategies, strategyFor, type ResourceInfo } from '@knet/api';
import { bootstrap } from './bootstrap.js';
import type { Ipam, ObjectStore } from './deps.js';
import { PodReaper } from './pod-termination.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { ApiMetrics } from './metrics.js';
import { buildOpenApiV3 } from './openapi.js';
import { parseResourcePath } from './request-path.js';
import { RestHandlers } from './rest.js';
import { writeJSON, writeStatus } from './responses.js';
import { ServiceAllocator } from './service-allocation.js';
import { ApiError, errors, toStatus } from './status.js';

export interface ApiServerOptions {
  store: ObjectStore;
  ipam: Ipam;
  log: Logger;
  /** --service-cluster-ip-range; when absent, ipam's ranges are used. */
  serviceCIDRs?: string[];
  /** The address the `kubernetes` Endpoints point at. */
  advertiseAddress: string;
  bookmarkIntervalMs?: number;
  maxWatchTimeoutMs?: number;
  maxWatchBufferedEvents?: number;
  /** Retry delay of the bootstrap while ipam is not reachable. */
  bootstrapRetryMs?: number;
  /** How often the system namespaces and the `kubernetes` Service are re-ensured (kube-apiserver: 10 s). */
  reconcileIntervalMs?: number;
  metrics?: ApiMetrics;
}

export class ApiServer {
  readonly metrics: ApiMetrics;
  private readonly server: http.Server;
  private readonly resources: ResourceInfo[] = strategies.map((s) => s.info);
  private readonly openapi = buildOpenApiV3(this.resources);
  private readonly rest: RestHandlers;
  private readonly allocator: ServiceAllocator;
  private readonly reaper: PodReaper;
  private bootstrapped = false;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private address = '';

  constructor(private readonly opts: ApiServerOptions) {
    this.metrics = opts.metrics ?? new ApiMetrics();
    this.allocator = new ServiceAllocator(opts.ipam, {
      ...(opts.serviceCIDRs ? { serviceCIDRs: opts.serviceCIDRs } : {}),
      onReleaseError: (err, what) => opts.log.warn({ err: String(err), what }, 'release failed; ipam repair will reclaim it'),
    });
    this.rest = new RestHandlers({
      store: opts.store,
      allocator: this.allocator,
      log: opts.log,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      maxWatchTimeoutMs: opts.maxWatchTimeoutMs ?? 3_600_000,
      maxWatchBufferedEvents: opts.maxWatchBufferedEvents ?? 10_000,
      onWatch: (d) => this.metrics.watchers.inc({ verb: 'WATCH' }, d),
    });
    this.reaper = new PodReaper(opts.store, (err, key) => opts.log.warn({ err: String(err), pod: key }, 'removing a terminated pod failed'));
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((req, res) => {
      void this.serve(req, res);
    });
    this.server = http.createServer(app);
    this.server.keepAliveTimeout = 65_000;
  }

  get isReady(): boolean {
    return this.bootstrapped;
  }

  /** Binds, then bootstraps in the background (retrying while ipam is unreachable). */
  async listen(host: string, port: number): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = (this.server.address() as AddressInfo).port;
    const h = host.includes(':') ? `[${host}]` : host;
    this.address = `${h}:${bound}`;
    void this.runBootstrap(bound);
    await this.reaper.start();
    return { port: bound, url: `http://${this.address}` };
  }

  /** Resolves once bootstrap finished (or rejects after timeoutMs). */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.bootstrapped) {
      if (Date.now() > deadline || this.closed) throw new Error('apiserver did not become ready');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async runBootstrap(port: number): Promise<void> {
    if (this.closed) return;
    try {
      const cidrs = this.opts.serviceCIDRs?.length ? this.opts.serviceCIDRs : (await this.opts.ipam.ranges()).serviceCIDRs;
      await bootstrap({ store: this.opts.store, allocator: this.allocator, serviceCIDR: cidrs[0]!, advertiseAddress: this.opts.advertiseAddress, port });
      if (!this.bootstrapped) this.opts.log.info('bootstrapped');
      this.bootstrapped = true;
      // like kube-apiserver's bootstrap controller: a deleted `kubernetes` Service comes back
      if (!this.closed) this.retryTimer = setTimeout(() => void this.runBootstrap(port), this.opts.reconcileIntervalMs ?? 10_000);
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'bootstrap failed, retrying');
      if (!this.closed) this.retryTimer = setTimeout(() => void this.runBootstrap(port), this.opts.bootstrapRetryMs ?? 1000);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.reaper.close();
    // stop accepting, end watches, let in-flight requests answer (bounded), then cut what is left
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.rest.closeWatches();
    this.server.closeIdleConnections();
    const grace = setTimeout(() => this.server.closeAllConnections(), 2000);
    await closed;
    clearTimeout(grace);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const labels = { verb: req.method ?? 'GET', resource: '' };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      await this.route(req, res, url, labels);
    } catch (err) {
      const status = toStatus(err);
      if (status.code >= 500) this.opts.log.error({ err: err instanceof Error ? err.stack : String(err), url: req.url }, 'request failed');
      if (res.headersSent) res.destroy();
      else writeStatus(res, status);
    } finally {
      const done = (): void => {
        const secs = Number(process.hrtime.bigint() - started) / 1e9;
        const { verb, resource } = labels;
        const code = String(res.statusCode);
        this.metrics.requests.inc({ verb, resource, code });
        if (verb !== 'WATCH') this.metrics.duration.observe({ verb, resource }, secs);
        this.opts.log.debug({ verb, resource, url: req.url, code: res.statusCode, ms: Math.round(secs * 1000) }, 'request');
      };
      if (res.writableFinished || res.destroyed) done();
      else res.once('close', done);
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, labels: { verb: string; resource: string }): Promise<{ verb: string; resource: string }> {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const get = (body: unknown): { verb: string; resource: string } => {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(errors.methodNotAllowed());
      writeJSON(res, 200, body);
      return { verb: 'GET', resource: '' };
    };
    switch (p) {
      case '/version': return get(versionInfo());
      case '/api': return get(apiVersions(this.address));
      case '/apis': return get(apiGroupList(this.resources));
      case '/openapi/v3': return get(this.openapi.index);
      case '/healthz':
      case '/livez':
        return this.text(res, 200, 'ok');
      case '/readyz':
        return this.bootstrapped ? this.text(res, 200, 'ok') : this.text(res, 500, '[-]poststarthook/knet-bootstrap failed: not finished\nreadyz check failed');
      case '/metrics': {
        const body = await this.metrics.registry.metrics();
        res.setHeader('Content-Type', this.metrics.registry.contentType);
        res.end(body);
        return { verb: 'GET', resource: '' };
      }
    }
    if (p.startsWith('/openapi/v3/')) {
      const doc = this.openapi.documents.get(p.slice('/openapi/v3/'.length));
      if (!doc) throw new ApiError(errors.pathNotFound());
      res.setHeader('Content-Type', 'application/json');
      res.end(doc);
      return { verb: 'GET', resource: '' };
    }
    const parts = p.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceList(this.resources, '', parts[1]!);
      if (doc) return get(doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroupDoc(this.resources, parts[1]!);
      if (doc) return get(doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceList(this.resources, parts[1]!, parts[2]!);
      if (doc) return get(doc);
    }
    // the deprecated /api/v1/watch/... prefix is the same as ?watch=true
    const legacyWatch = /^\/(api\/[^/]+|apis\/[^/]+\/[^/]+)\/watch\//.exec(p);
    const resourcePath = legacyWatch ? p.replace('/watch/', '/') : p;
    if (legacyWatch) {
      if (req.method !== 'GET') throw new ApiError(errors.methodNotAllowed());
      url.searchParams.set('watch', 'true');
    }
    const rp = parseResourcePath(resourcePath, (g, plural) => strategyFor(g, plural)?.info.namespaced);
    const strategy = rp ? strategyFor(rp.group, rp.plural) : undefined;
    if (!rp || !strategy || strategy.info.version !== rp.version) throw new ApiError(errors.pathNotFound());
    labels.resource = rp.subresource ? `${rp.plural}/${rp.subresource}` : rp.plural;
    labels.verb = guessVerb(req.method ?? 'GET', rp.name, url.searchParams);
    labels.verb = await this.rest.handle(req, res, rp, strategy, url.searchParams);
    return labels;
  }

  private text(res: http.ServerResponse, code: number, body: string): { verb: string; resource: string } {
    res.statusCode = code;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(body);
    return { verb: 'GET', resource: '' };
  }
}

/** The Kubernetes verb of a request, for metrics when the handler fails before naming it. */
function guessVerb(method: string, name: string | undefined, q: URLSearchParams): string {
  if (method === 'GET') return name ? 'GET' : q.get('watch') === '1' || q.get('watch') === 'true' ? 'WATCH' : 'LIST';
  if (method === 'DELETE' && !name) return 'DELETECOLLECTION';
  return method;
}
