// The endpoints controllers of kube-controller-manager in one loop per Service:
// Endpoints, EndpointSlices, EndpointSlice mirroring, plus LoadBalancer ingress IPs.
// Informers feed a coalescing work queue; a sync reads only the caches, computes the
// desired objects with @knet/endpoints, and writes the differences.
import { setMaxListeners } from 'node:events';
import type { EndpointSlice, Endpoints, KubeObject, Node, Pod, Service } from '@knet/api';
import { Informer, isConflict, isNotFound, objectKey, resources, type KubeClient, type Logger } from '@knet/client';
import {
  AnnotationLastChangeTriggerTime,
  ControllerName,
  LabelManagedBy,
  LabelServiceName,
  MirroringControllerName,
  TriggerTimeTracker,
  desiredEndpoints,
  desiredEndpointSlices,
  hasManagedEndpoints,
  isPodReady,
  mirrorEndpointSlices,
  podIPs,
  reconcileEndpoints,
  selectPods,
  selectorMatches,
  type SlicePlan,
} from '@knet/endpoints';
import { LoadBalancerSync, type LoadBalancerAllocator } from './load-balancer-sync.js';
import type { ControllerMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { SyncTracer, wallMs, type WriteTrace } from './sync-trace.js';
import { WriteTracker } from './write-tracker.js';

export type { LoadBalancerAllocator };

export interface ControllerOptions {
  client: KubeClient;
  log: Logger;
  /** Logger handed to the informers (they add their own component field); default `log`. */
  informerLog?: Logger;
  /** Connects to ipam on first need. Without it LoadBalancer Services get no ingress IP (logged once per Service). */
  ipam?: () => Promise<LoadBalancerAllocator>;
  concurrentSyncs?: number;
  maxEndpointsPerSlice?: number;
  /** Pod changes wait this long so a burst becomes one sync (--endpoint-updates-batch-period). */
  batchPeriodMs?: number;
  metrics?: ControllerMetrics;
  /** Syncs of a Service that keep failing are dropped after this many retries (client-go: 15). */
  maxRetries?: number;
  /** Log each EndpointSlice update at debug with its way from the Pod event (bench:controller's breakdown). */
  traceSyncs?: boolean;
}

class StaleCacheError extends Error {}

/** A Service deferred for a stale cache is looked at again after this long at the latest. */
const staleRecheckMs = 1000;

const managers = new Set([ControllerName, MirroringControllerName]);

export class EndpointsController {
  readonly services: Informer<Service>;
  readonly pods: Informer<Pod>;
  readonly endpoints: Informer<Endpoints>;
  readonly slices: Informer<EndpointSlice>;
  /** Only for the endpoints' zone (topology.kubernetes.io/zone of the Pod's Node). */
  readonly nodes: Informer<Node>;
  private readonly queue = new WorkQueue<string>();
  private readonly writes = new WriteTracker();
  private readonly triggerTimes = new TriggerTimeTracker();
  /** Services seen deleted (or found missing at start) whose Endpoints should go. */
  private readonly orphans = new Set<string>();
  private readonly loadBalancers: LoadBalancerSync;
  /** Services whose sync waits for the caches to show this controller's last writes. */
  private readonly deferred = new Set<string>();
  private workers: Promise<void>[] = [];
  private started = false;
  private stopped = false;
  private synced = false;
  private readonly log: Logger;
  /** Aborts in-flight API calls when the controller stops. */
  private readonly stopping = new AbortController();
  /** Times logged at debug with each slice update; only when asked for (a few map operations per event). */
  private readonly tracer: SyncTracer | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.log;
    if (opts.traceSyncs) this.tracer = new SyncTracer();
    // Every in-flight call listens on this signal.
    setMaxListeners(0, this.stopping.signal);
    const { client } = opts;
    const informerLog = opts.informerLog ?? opts.log;
    this.services = new Informer<Service>(client, resources.services, { log: informerLog, indexers: { selector: selectorIndex } });
    this.pods = new Informer<Pod>(client, resources.pods, { log: informerLog, indexers: { label: labelIndex } });
    this.endpoints = new Informer<Endpoints>(client, resources.endpoints, { log: informerLog });
    this.slices = new Informer<EndpointSlice>(client, resources.endpointslices, {
      log: informerLog,
      indexers: { service: (s) => (s.metadata.labels?.[LabelServiceName] ? [`${s.metadata.namespace}/${s.metadata.labels[LabelServiceName]}`] : []) },
    });
    this.loadBalancers = new LoadBalancerSync({ client, ipam: opts.ipam, log: opts.log, metrics: opts.metrics, signal: this.stopping.signal });
    this.nodes = new Informer<Node>(client, resources.nodes, { log: informerLog });
    this.wireHandlers();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const inf of [this.services, this.pods, this.endpoints, this.slices, this.nodes]) inf.start();
  }

  /** Resolves once every informer listed; then the workers run. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([this.services, this.pods, this.endpoints, this.slices, this.nodes].map((i) => i.waitForSync(signal)));
    if (this.synced || this.stopped) return;
    this.synced = true;
    this.queueLeftovers();
    const n = Math.max(1, this.opts.concurrentSyncs ?? 64);
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.shutDown();
    this.stopping.abort();
    await Promise.all([this.services, this.pods, this.endpoints, this.slices, this.nodes].map((i) => i.stop()));
    await Promise.all(this.workers);
  }

  /** Keys waiting to sync (for metrics and tests). */
  get queueLength(): number {
    return this.queue.length;
  }

  // ---- event handlers -------------------------------------------------------

  private wireHandlers(): void {
    const enqueue = (key: string) => this.enqueue(key);
    this.services
      .on('add', (s) => enqueue(objectKey(s)))
      .on('update', (s) => enqueue(objectKey(s)))
      .on('delete', (s) => {
        const key = objectKey(s);
        this.orphans.add(key);
        this.loadBalancers.serviceDeleted(key, s);
        enqueue(key);
      });

    const podEvent = (pod: Pod, old?: Pod) => {
      // Before the workers start every Service is queued anyway (its add event).
      if (!this.synced) return;
      if (old && !podChanged(old, pod)) return;
      const keys = new Set(this.servicesSelecting(pod));
      if (old && !sameLabels(old, pod)) for (const k of this.servicesSelecting(old)) keys.add(k);
      const tracer = this.tracer;
      const at = tracer ? wallMs() : 0;
      for (const k of keys) {
        tracer?.podEvent(k, at);
        this.enqueue(k, this.opts.batchPeriodMs);
      }
    };
    this.pods
      .on('add', (p) => podEvent(p))
      .on('update', (p, old) => podEvent(p, old))
      .on('delete', (p) => podEvent(p));

    const endpointsEvent = (ep: Endpoints, deleted: boolean) => {
      const key = objectKey(ep);
      if (this.observed(key, `endpoints/${ep.metadata.name}`, ep.metadata.resourceVersion, deleted)) return;
      enqueue(key);
    };
    this.endpoints
      .on('add', (e) => endpointsEvent(e, false))
      .on('update', (e) => endpointsEvent(e, false))
      .on('delete', (e) => endpointsEvent(e, true));

    const sliceEvent = (s: EndpointSlice, deleted: boolean, old?: EndpointSlice) => {
      const svcName = s.metadata.labels?.[LabelServiceName];
      const managed = managers.has(s.metadata.labels?.[LabelManagedBy] ?? '');
      const wasManaged = old ? managers.has(old.metadata.labels?.[LabelManagedBy] ?? '') : false;
      const oldName = old?.metadata.labels?.[LabelServiceName];
      if (old && oldName && (oldName !== svcName || managed !== wasManaged)) enqueue(`${old.metadata.namespace}/${oldName}`);
      if (!svcName || !managed) return;
      const key = `${s.metadata.namespace}/${svcName}`;
      if (this.observed(key, `slices/${s.metadata.name}`, s.metadata.resourceVersion, deleted)) return;
      enqueue(key);
    };
    this.slices
      .on('add', (s) => sliceEvent(s, false))
      .on('update', (s, old) => sliceEvent(s, false, old))
      .on('delete', (s) => sliceEvent(s, true));
  }

  /** Feeds the write tracker; a Service that waited for its writes to show is synced once they all have. */
  private observed(key: string, object: string, rv: string | undefined, deleted: boolean): boolean {
    const ours = this.writes.observe(key, object, rv, deleted);
    if (this.deferred.has(key) && !this.writes.isStale(key)) {
      this.deferred.delete(key);
      this.enqueue(key);
    }
    return ours;
  }

  private enqueue(key: string, delayMs = 0): void {
    if (delayMs > 0) this.queue.addAfter(key, delayMs);
    else this.queue.add(key);
    this.opts.metrics?.queueAdds.inc();
    this.opts.metrics?.queueDepth.set(this.queue.length);
  }

  /** Services in the Pod's namespace whose selector matches it (via the selector index). */
  private servicesSelecting(pod: Pod): string[] {
    const ns = pod.metadata.namespace ?? '';
    const candidates = new Set<Service>(this.services.byIndex('selector', `${ns}/`));
    const labels = pod.metadata.labels ?? {};
    for (const k in labels) {
      if (!Object.hasOwn(labels, k)) continue;
      for (const svc of this.services.byIndex('selector', `${ns}/${k}=${labels[k]}`)) candidates.add(svc);
    }
    const out: string[] = [];
    for (const svc of candidates) {
      const sel = svc.spec?.selector;
      if (sel != null && selectorMatches(sel, pod.metadata.labels)) out.push(objectKey(svc));
    }
    return out;
  }

  /** The Pods a Service selects, looked up through one of its selector's labels. */
  private podsSelectedBy(svc: Service): Pod[] {
    const ns = svc.metadata.namespace ?? '';
    const sel = svc.spec?.selector;
    if (sel == null) return [];
    const first = Object.entries(sel)[0];
    const candidates = first ? this.pods.byIndex('label', `${ns}/${first[0]}=${first[1]}`) : this.pods.list(ns);
    return selectPods(svc, candidates);
  }

  /** At start: Endpoints and managed slices whose Service is gone are cleaned up (checkLeftoverEndpoints). */
  private queueLeftovers(): void {
    for (const ep of this.endpoints.list()) {
      if (ep.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader'] !== undefined) continue;
      const key = objectKey(ep);
      if (!this.services.get(ep.metadata.namespace ?? '', ep.metadata.name ?? '')) {
        this.orphans.add(key);
        this.queue.add(key);
      }
    }
    for (const s of this.slices.list()) {
      const name = s.metadata.labels?.[LabelServiceName];
      if (name && managers.has(s.metadata.labels?.[LabelManagedBy] ?? '') && !this.services.get(s.metadata.namespace ?? '', name)) {
        this.queue.add(`${s.metadata.namespace}/${name}`);
      }
    }
  }

  // ---- workers --------------------------------------------------------------

  private async worker(): Promise<void> {
    const maxRetries = this.opts.maxRetries ?? 15;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.opts.metrics?.queueDepth.set(this.queue.length);
      const end = this.opts.metrics?.syncDuration.startTimer();
      if (this.tracer) this.tracer.busyWorkers++;
      try {
        await this.sync(key);
        this.queue.forget(key);
        this.opts.metrics?.syncs.inc({ result: 'success' });
      } catch (err) {
        if (this.stopped) {
          this.queue.done(key);
          return;
        }
        if (err instanceof StaleCacheError) {
          // Not a failure: the informer events that clear it requeue the Service (observed()).
          // The delayed add is only a safety net should such an event never come.
          this.opts.metrics?.syncs.inc({ result: 'stale' });
          this.deferred.add(key);
          this.queue.addAfter(key, staleRecheckMs);
          // The clearing event may have come between the check and here.
          if (!this.writes.isStale(key)) {
            this.deferred.delete(key);
            this.queue.add(key);
          }
        } else if (this.queue.numRequeues(key) < maxRetries) {
          this.opts.metrics?.syncs.inc({ result: 'error' });
          const lvl = isConflict(err) ? 'debug' : 'warn';
          this.log[lvl]({ key, err: errText(err), retry: this.queue.numRequeues(key) + 1 }, 'sync failed; retrying');
          this.queue.addRateLimited(key);
          this.opts.metrics?.queueRetries.inc();
        } else {
          this.opts.metrics?.syncs.inc({ result: 'error' });
          this.log.error({ key, err: errText(err) }, 'retry budget exceeded; dropping service from the queue');
          this.queue.forget(key);
        }
      } finally {
        if (this.tracer) this.tracer.busyWorkers--;
        end?.();
        this.queue.done(key);
      }
      // A sync that writes nothing completes in microtasks and the queue hands out the next key at
      // once: without a turn of the event loop here a backlog of such syncs holds up every watch event.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One Service: its Endpoints, EndpointSlices, mirrored slices and load balancer status. */
  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.services.get(namespace, name);
    const trace = this.tracer?.begin(key);
    if (svc) {
      this.orphans.delete(key);
      this.deferred.delete(key);
      if (this.writes.isStale(key)) {
        if (trace) this.tracer?.deferred(key, trace);
        throw new StaleCacheError(`informer caches have not seen this controller's last writes for ${key} yet`);
      }
    }
    this.tracer?.proceed(key);
    this.writes.beginSync(key);
    try {
      if (!svc) return await this.syncDeleted(key, namespace, name);
      // The load balancer status goes its own way: a slow or absent ipam must not hold up endpoints.
      const results = await Promise.allSettled([this.loadBalancers.sync(key, svc), this.syncEndpoints(key, svc, trace)]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    } finally {
      // Someone else changed this Service's objects meanwhile: the queue runs it again once done.
      if (this.writes.endSync(key)) this.enqueue(key);
    }
  }

  private async syncEndpoints(key: string, svc: Service, trace: WriteTrace | undefined): Promise<void> {
    const namespace = svc.metadata.namespace ?? '';
    const name = svc.metadata.name ?? '';
    if (hasManagedEndpoints(svc)) {
      // Selected once: the computations below filter again, but only these few.
      const pods = this.podsSelectedBy(svc);
      const triggerTime = this.triggerTimes.compute(svc, pods);
      const desired = desiredEndpoints(svc, pods, { triggerTime });
      const plan = desiredEndpointSlices(svc, pods, this.slices.byIndex('service', key), {
        maxEndpointsPerSlice: this.opts.maxEndpointsPerSlice,
        triggerTime,
        zoneOf: (nodeName) => this.nodes.get('', nodeName)?.metadata.labels?.['topology.kubernetes.io/zone'],
      });
      if (plan.create.length + plan.update.length + plan.delete.length > 0) {
        this.log.debug({ key, create: plan.create.length, update: plan.update.map((x) => x.metadata.name), delete: plan.delete.map((x) => x.metadata.name) }, 'writing EndpointSlices');
      }
      // Two controllers in Kubernetes: their writes go out side by side, the slices first: they are what
      // proxies and DNS read, and a request sent first is likelier to make the apiserver's current commit batch.
      const results = await Promise.allSettled([
        this.applyPlan(key, namespace, plan, trace),
        desired ? this.writeEndpoints(key, this.endpoints.get(namespace, name), desired) : Promise.resolve(),
      ]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    }
    const mirror = mirrorEndpointSlices(svc, this.endpoints.get(namespace, name), this.slices.byIndex('service', key));
    await this.applyPlan(key, namespace, mirror);
  }

  private async syncDeleted(key: string, namespace: string, name: string): Promise<void> {
    const ep = this.orphans.has(key) ? this.endpoints.get(namespace, name) : undefined;
    // No garbage collector in knet: slices owned by the Service (or its Endpoints) go with it.
    const slices = this.slices.byIndex('service', key).filter((s) => managers.has(s.metadata.labels?.[LabelManagedBy] ?? ''));
    // The caches fill from separate lists and watches, so a Service can be missing from its cache while its
    // Endpoints are in theirs: knet up writes kube-dns's Service and then its Endpoints as the controller
    // starts, and the leftover check took them for an orphan and deleted them. Before anything is cleaned up,
    // the apiserver says whether the Service is gone; if it is not, its add event is on its way and syncs it.
    const cleanup = ep !== undefined || slices.length > 0 || this.loadBalancers.holds(key);
    if (cleanup && (await this.serviceExists(namespace, name))) {
      this.orphans.delete(key);
      this.log.info({ key }, 'Service not in the cache yet; its add event will sync it');
      return;
    }
    this.triggerTimes.delete(namespace, name);
    if (ep) {
      await this.deleteIgnoringNotFound(() => this.opts.client.delete(resources.endpoints, namespace, name, this.call));
      this.expectDeleted(key, 'endpoints', name, ep.metadata.resourceVersion);
      this.count('Endpoints', 'delete');
      this.log.info({ key }, 'service deleted; Endpoints deleted');
    }
    await this.applyPlan(key, namespace, { create: [], update: [], delete: slices });
    this.orphans.delete(key);
    await this.loadBalancers.releaseAll(key);
  }

  private async serviceExists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.opts.client.get(resources.services, namespace, name, this.call);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async writeEndpoints(key: string, current: Endpoints | undefined, desired: Endpoints): Promise<void> {
    const w = reconcileEndpoints(current, desired);
    if (w.action === 'none') return;
    const ns = desired.metadata.namespace;
    const written =
      w.action === 'create'
        ? await this.opts.client.create<Endpoints>(resources.endpoints, ns, w.endpoints, this.call)
        : await this.opts.client.update<Endpoints>(resources.endpoints, ns, w.endpoints, this.call);
    this.expectWritten(key, 'endpoints', written);
    this.count('Endpoints', w.action);
  }

  private async applyPlan(key: string, namespace: string, plan: SlicePlan, trace?: WriteTrace): Promise<void> {
    const { client } = this.opts;
    for (const s of plan.create) {
      const created = await client.create<EndpointSlice>(resources.endpointslices, namespace, s, this.call);
      this.expectWritten(key, 'slices', created);
      this.count('EndpointSlice', 'create');
    }
    for (const s of plan.update) {
      const sent = trace && wallMs();
      const updated = await client.update<EndpointSlice>(resources.endpointslices, namespace, s, this.call);
      if (trace) {
        const triggerTime = s.metadata.annotations?.[AnnotationLastChangeTriggerTime];
        this.log.debug({ key, slice: s.metadata.name, triggerTime, ...trace, sent, acked: wallMs() }, 'EndpointSlice updated');
      }
      this.expectWritten(key, 'slices', updated);
      this.count('EndpointSlice', 'update');
    }
    for (const s of plan.delete) {
      const name = s.metadata.name ?? '';
      await this.deleteIgnoringNotFound(() => client.delete(resources.endpointslices, namespace, name, this.call));
      this.expectDeleted(key, 'slices', name, s.metadata.resourceVersion);
      this.count('EndpointSlice', 'delete');
    }
  }

  /** Records a write; the tracker sorts out whether its watch event came before the response (it usually does). */
  private expectWritten(key: string, prefix: string, obj: KubeObject): void {
    this.writes.expectWritten(key, `${prefix}/${obj.metadata.name}`, obj.metadata.resourceVersion);
  }

  /** The object came from the cache, so its delete event comes, from our delete or an earlier one. */
  private expectDeleted(key: string, prefix: string, name: string, rv: string | undefined): void {
    this.writes.expectDeleted(key, `${prefix}/${name}`, rv);
  }

  private async deleteIgnoringNotFound(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private get call(): { signal: AbortSignal } {
    return { signal: this.stopping.signal };
  }

  private count(kind: string, operation: string): void {
    this.opts.metrics?.changes.inc({ kind, operation });
  }
}

/** Services by each `namespace/key=value` of their selector; `namespace/` for an empty selector. */
function selectorIndex(svc: Service): string[] {
  const sel = svc.spec?.selector;
  if (sel == null) return [];
  const ns = svc.metadata.namespace ?? '';
  const pairs = Object.entries(sel);
  return pairs.length === 0 ? [`${ns}/`] : pairs.map(([k, v]) => `${ns}/${k}=${v}`);
}

/** Pods by each `namespace/key=value` label. */
function labelIndex(pod: Pod): string[] {
  const ns = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  // for-in, not Object.entries(...).map: this runs on every Pod event.
  const out: string[] = [];
  for (const k in labels) if (Object.hasOwn(labels, k)) out.push(`${ns}/${k}=${labels[k]}`);
  return out;
}

function sameLabels(a: KubeObject, b: KubeObject): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const ka = Object.keys(la);
  return ka.length === Object.keys(lb).length && ka.every((k) => la[k] === lb[k]);
}

/** Whether a Pod update can change any Service's endpoints (podEndpointsChanged). */
export function podChanged(old: Pod, cur: Pod): boolean {
  if (!sameLabels(old, cur)) return true;
  if (!!old.metadata.deletionTimestamp !== !!cur.metadata.deletionTimestamp) return true;
  if (isPodReady(old) !== isPodReady(cur)) return true;
  if (old.status?.phase !== cur.status?.phase) return true;
  if (podIPs(old).join(',') !== podIPs(cur).join(',')) return true;
  if (old.spec?.nodeName !== cur.spec?.nodeName || old.spec?.hostname !== cur.spec?.hostname || old.spec?.subdomain !== cur.spec?.subdomain) return true;
  // Ready transition times feed the trigger-time annotation.
  const t = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  if (t(old) !== t(cur)) return true;
  return JSON.stringify(old.spec?.containers?.map((c) => c.ports)) !== JSON.stringify(cur.spec?.containers?.map((c) => c.ports));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
