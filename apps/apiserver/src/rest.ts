// The generic REST handlers (get, list, watch, create, update, patch, delete) for every kind in
// the registry. Per-kind behaviour comes from the api package's strategies; Services add IP and
// NodePort allocation; namespaces cascade their deletion.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  apiVersionOf, cloneJSON, invalidStatus, tableFor,
  type KubeObject, type ResourceInfo, type Service, type Strategy, type Table,
} from '@knet/api';
import type { Logger } from 'pino';
import type { Pod } from '@knet/api';
import type { UserInfo } from '@knet/pki';
import { decodeJSON, isPlainObject, jsonDepthExceeds, MAX_JSON_DEPTH, readBody } from './body.js';
import { emptyNamespace } from './namespace-finalizer.js';
import { checkFields, decodeRequestObject, PROTOBUF } from './object-decoding.js';
import { gracePeriodFor, deletesGracefully, markTerminating } from './pod-termination.js';
import { generatedName, parseDeleteOptions, parseDryRun, parseNonNegativeInt, type DeleteOptions } from './request-options.js';
import { isCoreResource, schemaOf, storeKey } from './resources.js';
import { ListBody, writeJSON } from './responses.js';
import { storeErrorReason, type ObjectStore } from './deps.js';
import { mediaType, tableRequested, type TableRequest } from './negotiation.js';
import { applyPatch, PatchError, patchContentTypes } from './patch.js';
import { applyCreate, applyUpdate } from './server-side-apply.js';
import type { ResourcePath } from './request-path.js';
import { listFilter } from './selection.js';
import { dropTypeDependentFields, heldBy, patchAllocatedValues, type Held, type ServiceAllocator } from './service-allocation.js';
import { ApiError, errors, failure, fromStoreError, success } from './status.js';
import { WatchStream } from './watch.js';

export interface RestOptions {
  store: ObjectStore;
  allocator: ServiceAllocator;
  log: Logger;
  bookmarkIntervalMs: number;
  /** Upper bound for a watch without timeoutSeconds; kube-apiserver picks 30-60 min. */
  maxWatchTimeoutMs: number;
  maxWatchBufferedEvents: number;
  onWatch?: (delta: 1 | -1) => void;
  /** Admission for creates, after the name is known (a pod identity creates only its own Pod). Throws ApiError. */
  admitCreate?: (user: UserInfo | undefined, info: ResourceInfo, obj: KubeObject) => void;
}

/** The namespaces Kubernetes never lets you delete. */
const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
/** Kinds whose DELETE answers with the deleted object rather than a Status, as kube-apiserver does. */
const RETURNS_DELETED_OBJECT = new Set(['services', 'pods', 'namespaces']);
/** Kinds that PUT may create (AllowCreateOnUpdate in their kube-apiserver strategy). */
const CREATE_ON_UPDATE = new Set(['endpoints']);
const MAX_RETRIES = 8;

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  path: ResourcePath;
  strategy: Strategy;
  info: ResourceInfo;
  query: URLSearchParams;
  warnings: string[];
  user?: UserInfo;
}

export class RestHandlers {
  private readonly watches = new Set<WatchStream>();

  constructor(private readonly opts: RestOptions) {}

  /** Ends every open watch cleanly (clients see the stream end and re-watch elsewhere). */
  closeWatches(): void {
    for (const w of [...this.watches]) w.end('shutdown');
  }

  /** Serves one resource request; returns the Kubernetes verb (for metrics). Throws ApiError. */
  async handle(req: IncomingMessage, res: ServerResponse, path: ResourcePath, strategy: Strategy, query: URLSearchParams, user?: UserInfo): Promise<string> {
    const call: Call = { req, res, path, strategy, info: strategy.info, query, warnings: [], ...(user ? { user } : {}) };
    const { info } = strategy;
    if (path.subresource && !info.subresources.includes(path.subresource)) throw new ApiError(errors.pathNotFound());
    if (info.namespaced && path.name && path.namespace === undefined) throw new ApiError(errors.pathNotFound());
    const method = req.method ?? 'GET';
    if (!path.name) {
      if (method === 'GET') {
        if (query.get('watch') === '1' || query.get('watch') === 'true') {
          await this.watch(call);
          return 'WATCH';
        }
        await this.list(call);
        return 'LIST';
      }
      if (method === 'POST') {
        if (info.namespaced && path.namespace === undefined) throw new ApiError(errors.methodNotAllowed());
        await this.create(call);
        return 'POST';
      }
      if (method === 'DELETE' && !path.subresource && info.verbs.includes('deletecollection')) {
        await this.deleteCollection(call);
        return 'DELETECOLLECTION';
      }
      throw new ApiError(errors.methodNotAllowed());
    }
    switch (method) {
      case 'GET':
        if (!path.subresource && (query.get('watch') === '1' || query.get('watch') === 'true')) {
          // watching one object is watching the collection narrowed to its name
          const narrowed = new URLSearchParams(query);
          const fs = query.get('fieldSelector');
          narrowed.set('fieldSelector', `metadata.name=${path.name}${fs ? `,${fs}` : ''}`);
          await this.watch({ ...call, query: narrowed });
          return 'WATCH';
        }
        await this.get(call);
        return 'GET';
      case 'PUT':
        await this.update(call);
        return 'PUT';
      case 'PATCH':
        await this.patch(call);
        return 'PATCH';
      case 'DELETE':
        if (path.subresource) throw new ApiError(errors.methodNotAllowed());
        await this.delete(call);
        return 'DELETE';
      default:
        throw new ApiError(errors.methodNotAllowed());
    }
  }

  // ---- reads ----

  private async get(c: Call): Promise<void> {
    const obj = await this.load(c.info, c.path.namespace ?? '', c.path.name!);
    const table = tableRequested(c.req.headers.accept);
    if (table) return send(c, 200, this.table(c, [obj], table));
    send(c, 200, obj);
  }

  private async list(c: Call): Promise<void> {
    const filter = listFilter(c.info, c.query.get('labelSelector') ?? '', c.query.get('fieldSelector') ?? '');
    const limit = parseNonNegativeInt(c.query.get('limit'), 'limit');
    const cont = c.query.get('continue') ?? undefined;
    let result;
    try {
      result = await this.opts.store.list(storeKey(c.info), {
        ...(c.path.namespace !== undefined ? { namespace: c.path.namespace } : {}),
        ...(filter ? { filter } : {}),
        ...(limit ? { limit } : {}),
        ...(cont ? { continue: cont } : {}),
      });
    } catch (err) {
      const msg = (err as Error).message;
      // an undecodable token is the client's mistake (400); a decodable but too old one is 410
      if (cont && /continue key is not valid/.test(msg)) throw new ApiError(errors.badRequest(msg));
      if (storeErrorReason(err) === 'Gone') throw new ApiError(errors.expired(msg));
      throw err;
    }
    const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continue) meta['continue'] = result.continue;
    if (result.remainingItemCount !== undefined && result.continue) meta['remainingItemCount'] = result.remainingItemCount;
    const table = tableRequested(c.req.headers.accept);
    if (table) {
      const t = this.table(c, result.items, table);
      t.metadata = { ...t.metadata, ...meta };
      return send(c, 200, t);
    }
    send(c, 200, new ListBody({ kind: c.info.listKind, apiVersion: apiVersionOf(c.info), metadata: meta }, result.items));
  }

  private async watch(c: Call): Promise<void> {
    const filter = listFilter(c.info, c.query.get('labelSelector') ?? '', c.query.get('fieldSelector') ?? '');
    const timeoutSeconds = parseNonNegativeInt(c.query.get('timeoutSeconds'), 'timeoutSeconds');
    const maxMs = this.opts.maxWatchTimeoutMs;
    const timeoutMs = timeoutSeconds ? Math.min(timeoutSeconds * 1000, maxMs) : maxMs * (0.5 + Math.random() * 0.5);
    const table = tableRequested(c.req.headers.accept);
    if (table) this.table(c, [], table); // rejects a bad includeObject before the stream starts
    const rv = c.query.get('resourceVersion') ?? undefined;
    if (rv && !/^\d+$/.test(rv)) throw new ApiError(errors.badRequest(`invalid resource version: ${rv}`));
    const { info } = c;
    const stream = new WatchStream(c.res, {
      store: this.opts.store,
      resource: storeKey(info),
      ...(c.path.namespace !== undefined ? { namespace: c.path.namespace } : {}),
      ...(rv ? { resourceVersion: rv } : {}),
      ...(filter ? { filter } : {}),
      allowBookmarks: c.query.get('allowWatchBookmarks') === 'true' || c.query.get('allowWatchBookmarks') === '1',
      bookmarkIntervalMs: this.opts.bookmarkIntervalMs,
      timeoutMs,
      maxBufferedEvents: this.opts.maxWatchBufferedEvents,
      encode: (_type, obj) => (table ? this.table(c, [obj], table) : obj),
      bookmark: (resourceVersion) => ({ kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion } }),
      onEnd: (reason) => {
        this.watches.delete(stream);
        this.opts.onWatch?.(-1);
        if (reason === 'slow') this.opts.log.warn({ resource: info.plural, reason }, 'closing watch of a consumer that cannot keep up');
      },
    });
    this.watches.add(stream);
    this.opts.onWatch?.(1);
    await stream.start();
  }

  private table(c: Call, objs: KubeObject[], t: TableRequest): Table {
    const io = c.query.get('includeObject') ?? 'Metadata';
    if (io !== 'None' && io !== 'Object' && io !== 'Metadata') {
      throw new ApiError(errors.badRequest(`includeObject: Unsupported value: "${io}": supported values: "Metadata", "None", "Object"`));
    }
    const table = tableFor(c.info.plural, objs, { includeObject: io });
    if (t.version === 'v1beta1') (table as { apiVersion: string }).apiVersion = 'meta.k8s.io/v1beta1';
    return table;
  }

  // ---- writes ----

  private async create(c: Call, decoded?: KubeObject): Promise<void> {
    const { info, strategy } = c;
    const dryRun = parseDryRun(c.query);
    const obj = decoded ?? (await this.decodeObject(c));
    const ns = c.path.namespace;
    if (info.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw new ApiError(errors.badRequest('the namespace of the provided object does not match the namespace sent on the request'));
      }
      obj.metadata.namespace = ns!;
      await this.requireNamespace(ns!);
    } else {
      delete obj.metadata.namespace;
    }
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = generatedName(obj.metadata.generateName);
    this.opts.admitCreate?.(c.user, info, obj);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'selfLink'] as const) delete obj.metadata[k as keyof typeof obj.metadata];
    strategy.prepareForCreate(obj);
    this.validate(c, strategy.validate(obj), obj);
    if (dryRun) {
      obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      return send(c, 201, obj);
    }
    let held: Held = { ips: [], ports: [] };
    if (isCoreResource(info, 'services')) held = await this.opts.allocator.allocateOnCreate(obj as Service);
    try {
      const created = await this.opts.store.create(storeKey(info), obj);
      send(c, 201, created);
    } catch (err) {
      await this.opts.allocator.release(await this.notHeldByExisting(info, obj, held, err));
      throw this.storeFailure(err, info, obj.metadata.name ?? '');
    }
  }

  private async update(c: Call): Promise<void> {
    const obj = await this.decodeObject(c);
    const { path, info } = c;
    if (obj.metadata.name && obj.metadata.name !== path.name) {
      throw new ApiError(errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${path.name})`));
    }
    if (info.namespaced && obj.metadata.namespace && obj.metadata.namespace !== path.namespace) {
      throw new ApiError(errors.badRequest('the namespace of the provided object does not match the namespace sent on the request'));
    }
    obj.metadata.name = path.name!;
    if (info.namespaced) obj.metadata.namespace = path.namespace!;
    else delete obj.metadata.namespace;
    const userRV = obj.metadata.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      let old: KubeObject;
      try {
        old = await this.opts.store.get(storeKey(info), path.namespace ?? '', path.name!);
      } catch (err) {
        if (storeErrorReason(err) === 'NotFound' && CREATE_ON_UPDATE.has(info.plural) && !path.subresource) {
          delete obj.metadata.resourceVersion;
          return this.create(c, obj);
        }
        throw this.storeFailure(err, info, path.name!);
      }
      // commitUpdate changes what it is given; only a retry (no resourceVersion sent) needs the body as sent again
      const next = userRV ? obj : cloneJSON(obj);
      if (!userRV) next.metadata.resourceVersion = old.metadata.resourceVersion!;
      const result = await this.commitUpdate(c, next, old);
      if (result === 'conflict' && !userRV && attempt < MAX_RETRIES) continue;
      if (result === 'conflict') throw new ApiError(errors.conflict(info.plural, path.name!, 'the object has been modified; please apply your changes to the latest version and try again', info.group));
      return send(c, 200, result);
    }
  }

  private async patch(c: Call): Promise<void> {
    const { info, path } = c;
    const ct = mediaType(c.req.headers['content-type']);
    if (ct === 'application/apply-patch+yaml') return this.apply(c);
    const type = patchContentTypes[ct];
    if (!type) throw new ApiError(errors.unsupportedMediaType(ct));
    const patch = decodeJSON(await readBody(c.req));
    const schema = schemaOf(info);
    for (let attempt = 0; ; attempt++) {
      const old = await this.load(info, path.namespace ?? '', path.name!);
      let patched: unknown;
      try {
        patched = applyPatch(type, old, patch, schema);
      } catch (err) {
        throw patchFailure(err);
      }
      if (!isPlainObject(patched) || !isPlainObject(patched['metadata'])) {
        throw new ApiError(errors.badRequest('the patch produced an object without metadata'));
      }
      const next = patched as unknown as KubeObject;
      if (next.metadata.name !== path.name || (info.namespaced && next.metadata.namespace !== path.namespace)) {
        throw new ApiError(errors.badRequest(`the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${path.name})`));
      }
      if (next.metadata.uid !== old.metadata.uid) {
        throw new ApiError(errors.conflict(info.plural, path.name!, `Precondition failed: UID in precondition: ${String(next.metadata.uid)}, UID in object meta: ${String(old.metadata.uid)}`, info.group));
      }
      const userRV = next.metadata.resourceVersion !== old.metadata.resourceVersion;
      this.checkFields(c, next);
      const result = await this.commitUpdate(c, next, old);
      if (result === 'conflict' && !userRV && attempt < MAX_RETRIES) continue;
      if (result === 'conflict') throw new ApiError(errors.conflict(info.plural, path.name!, 'the object has been modified; please apply your changes to the latest version and try again', info.group));
      return send(c, 200, result);
    }
  }

  /** Server-side apply (see server-side-apply.ts): creates when absent, else merges the applied fields. */
  private async apply(c: Call): Promise<void> {
    const { info, path } = c;
    const manager = c.query.get('fieldManager');
    if (!manager) throw new ApiError(errors.badRequest('fieldManager is required for apply requests'));
    const buf = await readBody(c.req);
    let applied: unknown;
    if (jsonDepthExceeds(buf.toString('utf8'), MAX_JSON_DEPTH)) {
      throw new ApiError(errors.badRequest(`the apply configuration is nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    try {
      applied = JSON.parse(buf.toString('utf8'));
    } catch {
      throw new ApiError(errors.badRequest('knet accepts apply configurations as JSON (which kubectl sends), not YAML'));
    }
    if (!isPlainObject(applied)) throw new ApiError(errors.badRequest('the apply configuration must be an object'));
    if (applied['kind'] !== info.kind || applied['apiVersion'] !== apiVersionOf(info)) {
      throw new ApiError(errors.badRequest(`the apply configuration must have apiVersion "${apiVersionOf(info)}" and kind "${info.kind}"`));
    }
    if (!isPlainObject(applied['metadata'])) applied['metadata'] = {};
    const obj = applied as unknown as KubeObject;
    if (obj.metadata.name !== undefined && obj.metadata.name !== path.name) {
      throw new ApiError(errors.badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${path.name})`));
    }
    if (info.namespaced && obj.metadata.namespace !== undefined && obj.metadata.namespace !== path.namespace) {
      throw new ApiError(errors.badRequest('the namespace of the provided object does not match the namespace sent on the request'));
    }
    obj.metadata.name = path.name!;
    if (info.namespaced) obj.metadata.namespace = path.namespace!;
    this.checkFields(c, obj);
    const schema = schemaOf(info);
    for (let attempt = 0; ; attempt++) {
      let current: KubeObject;
      try {
        current = await this.opts.store.get(storeKey(info), path.namespace ?? '', path.name!);
      } catch (err) {
        if (storeErrorReason(err) === 'NotFound' && !path.subresource) {
          let created: KubeObject;
          try {
            created = applyCreate(obj, manager, schema);
          } catch (e) {
            throw patchFailure(e);
          }
          return this.create(c, created);
        }
        throw this.storeFailure(err, info, path.name!);
      }
      let next: KubeObject;
      try {
        next = applyUpdate(current, obj, manager, schema);
      } catch (err) {
        throw patchFailure(err); // e.g. a list element without its merge key
      }
      next.metadata.resourceVersion = current.metadata.resourceVersion!;
      const result = await this.commitUpdate(c, next, current);
      if (result === 'conflict' && attempt < MAX_RETRIES) continue;
      if (result === 'conflict') throw new ApiError(errors.conflict(info.plural, path.name!, 'the object has been modified; please apply your changes to the latest version and try again', info.group));
      return send(c, 200, result);
    }
  }

  /**
   * prepare, validate, allocate, store. Returns 'conflict' when the stored RV moved on. `old` is the
   * stored object, deeply frozen: the strategies read it and copy what they take from it.
   */
  private async commitUpdate(c: Call, obj: KubeObject, old: KubeObject): Promise<KubeObject | 'conflict'> {
    const { info, strategy, path } = c;
    const dryRun = parseDryRun(c.query);
    obj.apiVersion = apiVersionOf(info);
    obj.kind = info.kind;
    const isService = isCoreResource(info, 'services');
    if (path.subresource === 'status') {
      strategy.prepareForStatusUpdate(obj, old);
    } else {
      strategy.prepareForUpdate(obj, old);
      if (isService) {
        dropTypeDependentFields(obj as Service, old as Service);
        patchAllocatedValues(obj as Service, old as Service);
      }
    }
    const errs = path.subresource === 'status' ? strategy.validateStatusUpdate(obj, old) : strategy.validateUpdate(obj, old);
    this.validate(c, errs, obj);
    if (dryRun) return obj;
    let allocated: Held = { ips: [], ports: [] };
    let toRelease: Held = { ips: [], ports: [] };
    if (isService && !path.subresource) {
      ({ allocated, toRelease } = await this.opts.allocator.allocateOnUpdate(obj as Service, old as Service));
    }
    try {
      const updated = await this.opts.store.update(storeKey(info), obj);
      await this.opts.allocator.release(toRelease);
      return updated;
    } catch (err) {
      await this.opts.allocator.release(allocated);
      if (storeErrorReason(err) === 'Conflict') return 'conflict';
      throw this.storeFailure(err, info, path.name!);
    }
  }

  private async delete(c: Call): Promise<void> {
    const { info, path } = c;
    const opts = await this.deleteOptions(c);
    const dryRun = opts.dryRun || parseDryRun(c.query);
    if (isCoreResource(info, 'namespaces') && PROTECTED_NAMESPACES.has(path.name!)) {
      throw new ApiError(failure(403, 'Forbidden', `namespaces "${path.name}" is forbidden: this namespace may not be deleted`,
        { name: path.name!, kind: 'namespaces' }));
    }
    const current = await this.load(info, path.namespace ?? '', path.name!);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw new ApiError(errors.conflict(info.plural, path.name!, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`, info.group));
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw new ApiError(errors.conflict(info.plural, path.name!, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`, info.group));
    }
    if (dryRun) return send(c, 200, RETURNS_DELETED_OBJECT.has(info.plural) ? current : success({ name: path.name!, kind: info.plural, uid: current.metadata.uid! }));
    if (isCoreResource(info, 'namespaces')) {
      await emptyNamespace(this.opts.store, this.opts.allocator, path.name!);
    }
    if (isCoreResource(info, 'pods')) {
      const grace = gracePeriodFor(current as Pod, opts.gracePeriodSeconds ?? parseNonNegativeInt(c.query.get('gracePeriodSeconds'), 'gracePeriodSeconds'));
      if (deletesGracefully(current as Pod, grace)) {
        try {
          return send(c, 200, await markTerminating(this.opts.store, path.namespace!, path.name!, grace));
        } catch (err) {
          throw this.storeFailure(err, info, path.name!);
        }
      }
    }
    let deleted: KubeObject;
    try {
      deleted = await this.opts.store.delete(storeKey(info), path.namespace ?? '', path.name!, {
        ...(pre?.uid ? { uid: pre.uid } : {}),
        ...(pre?.resourceVersion ? { resourceVersion: pre.resourceVersion } : {}),
      });
    } catch (err) {
      throw this.storeFailure(err, info, path.name!);
    }
    if (isCoreResource(info, 'services')) await this.opts.allocator.release(heldBy(deleted as Service));
    if (isCoreResource(info, 'namespaces')) {
      const ns = structuredClone(deleted) as KubeObject & { status?: { phase?: string } };
      ns.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      ns.status = { ...(ns.status ?? {}), phase: 'Terminating' };
      return send(c, 200, ns);
    }
    if (RETURNS_DELETED_OBJECT.has(info.plural)) return send(c, 200, deleted);
    send(c, 200, success({ name: path.name!, ...(info.group ? { group: info.group } : {}), kind: info.plural, uid: deleted.metadata.uid! }));
  }

  /** DELETE on a collection: every object matching the selectors, answered with the list of them. */
  private async deleteCollection(c: Call): Promise<void> {
    const { info, path } = c;
    if (isCoreResource(info, 'namespaces')) throw new ApiError(errors.methodNotAllowed());
    const opts = await this.deleteOptions(c);
    const dryRun = opts.dryRun || parseDryRun(c.query);
    const filter = listFilter(info, c.query.get('labelSelector') ?? '', c.query.get('fieldSelector') ?? '');
    const key = storeKey(info);
    const listed = await this.opts.store.list(key, { ...(path.namespace !== undefined ? { namespace: path.namespace } : {}), ...(filter ? { filter } : {}) });
    const deleted: KubeObject[] = [];
    for (const o of listed.items) {
      if (dryRun) {
        deleted.push(o);
        continue;
      }
      try {
        const d = await this.opts.store.delete(key, o.metadata.namespace ?? '', o.metadata.name!);
        if (isCoreResource(info, 'services')) await this.opts.allocator.release(heldBy(d as Service));
        deleted.push(d);
      } catch (err) {
        if (storeErrorReason(err) !== 'NotFound') throw this.storeFailure(err, info, o.metadata.name ?? '');
      }
    }
    send(c, 200, { kind: info.listKind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: this.opts.store.resourceVersion() }, items: deleted });
  }

  /**
   * A create that lost to an existing object of the same name must not release what that object
   * holds: ipam answers a same-owner request for an IP it already holds with success.
   */
  private async notHeldByExisting(info: ResourceInfo, obj: KubeObject, held: Held, err: unknown): Promise<Held> {
    if (storeErrorReason(err) !== 'AlreadyExists' || (held.ips.length === 0 && held.ports.length === 0)) return held;
    try {
      const existing = heldBy((await this.opts.store.get(storeKey(info), obj.metadata.namespace ?? '', obj.metadata.name ?? '')) as Service);
      return { ips: held.ips.filter((ip) => !existing.ips.includes(ip)), ports: held.ports.filter((p) => !existing.ports.includes(p)) };
    } catch {
      return held;
    }
  }

  private async deleteOptions(c: Call): Promise<DeleteOptions> {
    const buf = await readBody(c.req);
    return parseDeleteOptions(buf, mediaType(c.req.headers['content-type']) === PROTOBUF);
  }

  // ---- helpers ----

  private async decodeObject(c: Call): Promise<KubeObject> {
    const obj = await decodeRequestObject(c.req, c.info);
    this.checkFields(c, obj);
    return obj;
  }

  private checkFields(c: Call, obj: KubeObject): void {
    c.warnings.push(...checkFields(obj, c.info, c.query.get('fieldValidation') ?? undefined));
  }

  private validate(c: Call, errs: ReturnType<Strategy['validate']>, obj: KubeObject): void {
    if (errs.length > 0) throw new ApiError(invalidStatus(c.info.kind, c.info.group, obj.metadata.name ?? '', errs));
  }

  private async requireNamespace(ns: string): Promise<void> {
    try {
      await this.opts.store.get('namespaces', '', ns);
    } catch (err) {
      if (storeErrorReason(err) === 'NotFound') throw new ApiError(errors.notFound('namespaces', ns));
      throw err;
    }
  }

  private async load(info: ResourceInfo, ns: string, name: string): Promise<KubeObject> {
    try {
      return await this.opts.store.get(storeKey(info), ns, name);
    } catch (err) {
      throw this.storeFailure(err, info, name);
    }
  }

  private storeFailure(err: unknown, info: ResourceInfo, name: string): unknown {
    if (err instanceof ApiError) return err;
    const s = fromStoreError(err, info.plural, info.group, name);
    return s ? new ApiError(s) : err;
  }
}

/** A patch that cannot be applied to the object is the client's error: 422, as for PATCH. */
function patchFailure(err: unknown): unknown {
  if (!(err instanceof PatchError)) return err;
  return new ApiError(failure(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`,
    { causes: [{ reason: 'FieldValueInvalid', message: err.message, field: 'patch' }] }));
}

function send(c: Call, code: number, body: unknown): void {
  if (c.res.headersSent) return; // answered already (the request timed out)
  if (c.warnings.length > 0) c.res.setHeader('Warning', c.warnings.map((w) => warningHeader(w)));
  writeJSON(c.res, code, body);
}

/**
 * `299 - "text"`, sent as UTF-8 bytes as kube-apiserver does. Node refuses header strings beyond
 * latin1, and a warning can quote any field name a client sent (`unknown field "😀"`).
 */
export function warningHeader(text: string): string {
  const quoted = JSON.stringify(text).replace(/\x7f/g, '\\u007f'); // DEL is no header character either
  return Buffer.from(`299 - ${quoted}`, 'utf8').toString('latin1');
}
