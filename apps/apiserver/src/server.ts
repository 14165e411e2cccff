// The apiserver's HTTP surface on node:http: discovery, OpenAPI, health, metrics, and the REST
// handlers for every registered resource. Errors always leave as meta/v1 Status JSON.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { strategies, strategyFor, type ResourceInfo } from '@knet/api';
import { admitPodCreate, alwaysAllow, authorizeChain, AUTHENTICATED_GROUP, forbiddenMessage, type Attributes, type Authorizer, type UserInfo } from '@knet/pki';
import { AUTHZ_GROUP, authorizationGroup, authorizationResourceList, selfSubjectAccessReview, selfSubjectRulesReview } from './access-review.js';
import { ANONYMOUS, unsecured, type RequestAuthenticator } from './authentication.js';
import { bootstrap } from './bootstrap.js';
import { decodeJSON, readBody } from './body.js';
import { mediaType } from './negotiation.js';
import { decodeProtobufObject, ProtobufError } from './protobuf.js';
import { pathAttributes, resourceAttributes } from './request-attributes.js';
import { RequestLimits, type LimitOptions } from './request-limits.js';
import type { Ipam, ObjectStore } from './deps.js';
import { PodReaper } from './pod-termination.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { ApiMetrics } from './metrics.js';
import { buildOpenApiV3 } from './openapi.js';
import { parseResourcePath } from './request-path.js';
import { RestHandlers } from './rest.js';
import { writeJSON, writeStatus } from './responses.js';
import { ServiceAllocator } from './service-allocation.js';
import { ApiError, errors, failure, toStatus } from './status.js';

/** Readable without credentials, like Kubernetes' system:public-info-viewer role. */
const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version'];
const isPublicPath = (p: string): boolean => PUBLIC_PATHS.some((x) => p === x || p.startsWith(`${x}/`));
/** First retry of a failed bootstrap (ipam still starting); doubles up to bootstrapRetryMs. */
const FIRST_BOOTSTRAP_RETRY_MS = 100;

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** --client-ca-file: clients presenting a certificate it signed are authenticated by CN/O. */
  clientCA?: string | Buffer;
}

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
  /** Serve HTTPS with these (default: plain HTTP). */
  tls?: TlsOptions;
  /** Default: every request is system:unsecured in system:masters (no authentication configured). */
  authenticator?: RequestAuthenticator;
  /** First to allow wins; default [AlwaysAllow]. */
  authorizers?: Authorizer[];
  /** Max in-flight read-only (400) / mutating (200) requests and watches per user (1000); 0 = unlimited. */
  limits?: Partial<LimitOptions>;
  /** Deadline of a non-watch request → 504 (default 60 s; 0 = none). */
  requestTimeoutMs?: number;
  /** Time a client has to send the request headers (default 32 s, as kube-apiserver's ReadHeaderTimeout). */
  headersTimeoutMs?: number;
}

export class ApiServer {
  readonly metrics: ApiMetrics;
  private readonly server: http.Server | https.Server;
  private readonly resources: ResourceInfo[] = strategies.map((s) => s.info);
  private readonly openapi = buildOpenApiV3(this.resources);
  private readonly rest: RestHandlers;
  private readonly allocator: ServiceAllocator;
  private readonly reaper: PodReaper;
  private readonly authenticator: RequestAuthenticator;
  private readonly authorizers: Authorizer[];
  private readonly limits: RequestLimits;
  private bootstrapped = false;
  private bootstrapBackoffMs = FIRST_BOOTSTRAP_RETRY_MS;
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
      admitCreate: (user, info, obj) => {
        if (!user || info.group !== '' || info.plural !== 'pods') return;
        const denied = admitPodCreate(user, obj.metadata.namespace ?? '', obj.metadata.name);
        if (denied) throw new ApiError(failure(403, 'Forbidden', `pods ${JSON.stringify(obj.metadata.name ?? '')} is forbidden: ${denied}`, { name: obj.metadata.name ?? '', kind: 'pods' }));
      },
    });
    this.authenticator = opts.authenticator ?? unsecured;
    this.authorizers = opts.authorizers ?? [alwaysAllow];
    this.limits = new RequestLimits({ maxReadOnly: 400, maxMutating: 200, maxWatchesPerUser: 1000, ...opts.limits });
    this.reaper = new PodReaper(opts.store, (err, key) => opts.log.warn({ err: String(err), pod: key }, 'removing a terminated pod failed'));
    // Node's http server calls serve() directly. Express used to sit in between with one catch-all
    // handler: its router and its per-request prototype swap of req/res cost a quarter of the
    // apiserver's CPU per create (bench:api) and served nothing that serve() does not do itself.
    const app = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      void this.serve(req, res);
    };
    this.server = opts.tls
      ? https.createServer({
        cert: opts.tls.cert, key: opts.tls.key,
        // a client certificate is optional (tokens work too); the authenticator checks `authorized`
        ...(opts.tls.clientCA ? { ca: opts.tls.clientCA, requestCert: true, rejectUnauthorized: false } : {}),
      }, app)
      : http.createServer(app);
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = opts.headersTimeoutMs ?? 32_000;
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
    return { port: bound, url: `${this.opts.tls ? 'https' : 'http'}://${this.address}` };
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
      this.bootstrapBackoffMs = FIRST_BOOTSTRAP_RETRY_MS;
      // like kube-apiserver's bootstrap controller: a deleted `kubernetes` Service comes back
      if (!this.closed) this.retryTimer = setTimeout(() => void this.runBootstrap(port), this.opts.reconcileIntervalMs ?? 10_000);
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'bootstrap failed, retrying');
      // knet up starts ipam alongside the apiserver: retry soon first, then back off to bootstrapRetryMs
      const delay = Math.min(this.bootstrapBackoffMs, this.opts.bootstrapRetryMs ?? 1000);
      this.bootstrapBackoffMs = delay * 2;
      if (!this.closed) this.retryTimer = setTimeout(() => void this.runBootstrap(port), delay);
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
      const auth = await this.authenticator.authenticate(req);
      let user: UserInfo;
      if ('unauthorized' in auth) {
        // the public paths need no credentials, but wrong ones are refused everywhere (as Kubernetes)
        if (auth.unauthorized !== 'no credentials' || !isPublicPath(url.pathname)) {
          this.opts.log.debug({ url: req.url, reason: auth.unauthorized }, 'unauthorized');
          throw new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));
        }
        user = ANONYMOUS;
      } else user = auth.user;
      await this.route(req, res, url, labels, user);
    } catch (err) {
      const status = toStatus(err);
      if (status.code >= 500) this.opts.log.error({ err: err instanceof Error ? err.stack : String(err), url: req.url }, 'request failed');
      if (res.writableEnded) { /* answered already (timeout); the handler finished late */ }
      else if (res.headersSent) res.destroy();
      else {
        if (status.code === 429) res.setHeader('Retry-After', String(status.details?.retryAfterSeconds ?? 1));
        writeStatus(res, status);
      }
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

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, labels: { verb: string; resource: string }, user: UserInfo): Promise<{ verb: string; resource: string }> {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    // the deprecated /api/v1/watch/... prefix is the same as ?watch=true
    const legacyWatch = /^\/(api\/[^/]+|apis\/[^/]+\/[^/]+)\/watch\//.exec(p);
    const resourcePath = legacyWatch ? p.replace('/watch/', '/') : p;
    if (legacyWatch) {
      if (req.method !== 'GET') throw new ApiError(errors.methodNotAllowed());
      url.searchParams.set('watch', 'true');
    }
    const rp = parseResourcePath(resourcePath, (g, plural) => strategyFor(g, plural)?.info.namespaced);
    const method = req.method ?? 'GET';
    const attrs = rp ? resourceAttributes(user, method, rp, url.searchParams) : pathAttributes(user, method, p);
    const isReview = rp !== undefined && rp.group === AUTHZ_GROUP;
    if (!isPublicPath(p)) {
      this.authorize(attrs, isReview);
      const slot = this.limits.acquire(user, attrs.verb === 'watch' ? 'watch' : attrs.verb === 'get' || attrs.verb === 'list' ? 'readOnly' : 'mutating');
      if (!slot) {
        this.opts.log.debug({ user: user.name, verb: attrs.verb, url: req.url }, 'too many requests');
        throw new ApiError(failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 }));
      }
      res.once('close', () => slot.release());
      const timeoutMs = this.opts.requestTimeoutMs ?? 60_000;
      if (attrs.verb !== 'watch' && timeoutMs > 0) {
        const timer = setTimeout(() => {
          if (res.headersSent) return;
          // the body may never finish arriving: answer and close the connection
          res.setHeader('Connection', 'close');
          writeStatus(res, failure(504, 'Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded', {}));
        }, timeoutMs);
        res.once('close', () => clearTimeout(timer));
      }
    }
    if (isReview) return this.review(req, res, rp, user);
    const get = (body: unknown): { verb: string; resource: string } => {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(errors.methodNotAllowed());
      writeJSON(res, 200, body);
      return { verb: 'GET', resource: '' };
    };
    switch (p) {
      case '/version': return get(versionInfo());
      case '/api': return get(apiVersions(this.address));
      case '/apis': {
        const list = apiGroupList(this.resources) as { groups: object[] };
        return get({ ...list, groups: [...list.groups, authorizationGroup()] });
      }
      case `/apis/${AUTHZ_GROUP}`: return get({ kind: 'APIGroup', apiVersion: 'v1', ...authorizationGroup() });
      case `/apis/${AUTHZ_GROUP}/v1`: return get(authorizationResourceList());
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
    const strategy = rp ? strategyFor(rp.group, rp.plural) : undefined;
    if (!rp || !strategy || strategy.info.version !== rp.version) throw new ApiError(errors.pathNotFound());
    labels.resource = rp.subresource ? `${rp.plural}/${rp.subresource}` : rp.plural;
    labels.verb = guessVerb(req.method ?? 'GET', rp.name, url.searchParams);
    labels.verb = await this.rest.handle(req, res, rp, strategy, url.searchParams, user);
    return labels;
  }

  /** Throws a 403 Status unless some authorizer allows. Access reviews are every authenticated user's (system:basic-user). */
  private authorize(a: Attributes, isReview: boolean): void {
    if (isReview && a.verb === 'create' && a.user.groups.includes(AUTHENTICATED_GROUP)) return;
    if (authorizeChain(this.authorizers, a)) return;
    this.opts.log.debug({ user: a.user.name, verb: a.verb, resource: a.resource, namespace: a.namespace, path: a.path }, 'forbidden');
    const details = a.resourceRequest ? { ...(a.name ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource ?? '' } : {};
    throw new ApiError(failure(403, 'Forbidden', forbiddenMessage(a), details));
  }

  /** POST /apis/authorization.k8s.io/v1/selfsubject{access,rules}reviews */
  private async review(req: http.IncomingMessage, res: http.ServerResponse, rp: { version: string; plural: string; name?: string; namespace?: string },
    user: UserInfo): Promise<{ verb: string; resource: string }> {
    const known = rp.plural === 'selfsubjectaccessreviews' || rp.plural === 'selfsubjectrulesreviews';
    if (rp.version !== 'v1' || !known || rp.name !== undefined || rp.namespace !== undefined) throw new ApiError(errors.pathNotFound());
    if (req.method !== 'POST') throw new ApiError(errors.methodNotAllowed());
    const ct = mediaType(req.headers['content-type']);
    let body: unknown;
    if (ct === 'application/vnd.kubernetes.protobuf') {
      try {
        body = decodeProtobufObject(await readBody(req));
      } catch (err) {
        if (err instanceof ProtobufError) throw new ApiError(errors.badRequest(err.message));
        throw err;
      }
    } else if (ct === 'application/json' || ct === '') body = decodeJSON(await readBody(req));
    else throw new ApiError(errors.unsupportedMediaType(ct));
    const out = rp.plural === 'selfsubjectaccessreviews' ? selfSubjectAccessReview(body, user, this.authorizers) : selfSubjectRulesReview(body, user, this.authorizers);
    if ('error' in out) throw new ApiError(out.error);
    writeJSON(res, 201, out.review);
    return { verb: 'POST', resource: rp.plural };
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
