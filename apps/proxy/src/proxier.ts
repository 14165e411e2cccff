// The node proxy's control loop: informers feed a change tracker, a bounded-frequency runner syncs, and a sync
// is desired table → dataplane.apply (and VIPs on --vip-interface). Everything it decides is in desired-table.ts.
import { networkInterfaces } from 'node:os';
import { LabelServiceName, type EndpointSlice, type Node, type Service } from '@knet/api';
import { Informer, resources, type KubeClient, type Logger } from '@knet/client';
import type { DataplaneLogger, ServiceEntry } from '@knet/dataplane';
import { nodeInternalIPs, resolveNodePortAddresses } from './addresses.js';
import { BoundedFrequencyRunner } from './bounded-frequency-runner.js';
import { ChangeTracker } from './change-tracker.js';
import { serviceKey, type NodeView } from './desired-table.js';
import type { ProxyMetrics } from './metrics.js';
import type { SyncHealth } from './sync-health.js';
import { ShardedDataplane } from './sharded-dataplane.js';
import { VipInterface } from './vip-interface.js';

/** Set by the endpoints controllers on Endpoints and EndpointSlices: when the change that caused the write happened. */
export const TriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface ProxierOptions {
  nodeName: string;
  /** --nodeport-addresses as given. */
  nodePortAddresses: string[];
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  vipInterface?: string;
  udpIdleMs: number;
  drainMs: number;
  log: Logger;
  metrics: ProxyMetrics;
  health: SyncHealth;
}

export class Proxier {
  readonly dataplane: ShardedDataplane;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodes: Informer<Node>;
  private readonly tracker: ChangeTracker;
  private readonly runner: BoundedFrequencyRunner;
  private readonly vip: VipInterface | undefined;
  private readonly log: Logger;
  /** Trigger times of slice changes not yet programmed. */
  private triggerTimes: number[] = [];
  /** Changes from before this process started are not its programming latency (they come with the first list). */
  private readonly startedAt = Date.now();
  private reported = { skipped: new Set<string>(), errors: new Map<string, string>(), noNode: false };
  private firstSync: { promise: Promise<void>; resolve: () => void };
  private closed = false;

  constructor(
    client: KubeClient,
    private readonly opts: ProxierOptions,
  ) {
    this.log = opts.log;
    this.dataplane = new ShardedDataplane({ udpIdleMs: opts.udpIdleMs, drainMs: opts.drainMs, log: quietBindFailures(opts.log) });
    this.tracker = new ChangeTracker(this.dataplane.shardCount);
    this.services = new Informer<Service>(client, resources.services, { log: opts.log });
    this.slices = new Informer<EndpointSlice>(client, resources.endpointslices, {
      log: opts.log,
      indexers: { service: (s) => sliceOwner(s) },
    });
    // Only this node, as kube-proxy watches it.
    this.nodes = new Informer<Node>(client, resources.nodes, { log: opts.log, fieldSelector: `metadata.name=${opts.nodeName}` });
    this.vip = opts.vipInterface ? new VipInterface(opts.vipInterface, opts.log) : undefined;
    this.runner = new BoundedFrequencyRunner(() => this.sync(), {
      minIntervalMs: opts.minSyncPeriodMs,
      maxIntervalMs: opts.syncPeriodMs,
      onError: (err) => {
        this.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'sync failed; retrying');
        this.runner.retryAfter(1000);
      },
    });
    let resolve!: () => void;
    this.firstSync = { promise: new Promise<void>((r) => (resolve = r)), resolve };

    const svcChanged = (s: Service): void => this.changed(serviceKey(s.metadata.namespace, s.metadata.name ?? ''));
    this.services.on('add', svcChanged).on('update', svcChanged).on('delete', svcChanged);
    this.slices
      .on('add', (s) => this.sliceChanged(s, undefined))
      .on('update', (s, old) => this.sliceChanged(s, old))
      .on('delete', (s) => this.sliceChanged(s, s));
    const nodeChanged = (n: Node): void => {
      if (n.metadata.name === this.opts.nodeName) this.changed(undefined);
    };
    this.nodes.on('add', nodeChanged).on('update', nodeChanged).on('delete', nodeChanged);
  }

  /**
   * Starts the informers; the first sync runs once all three have listed. Resolves after that sync, with how
   * long the lists and the first sync took (ms).
   */
  async start(): Promise<{ listMs: number; firstSyncMs: number }> {
    const t0 = performance.now();
    this.services.start();
    this.slices.start();
    this.nodes.start();
    await Promise.all([this.services.waitForSync(), this.slices.waitForSync(), this.nodes.waitForSync()]);
    const t1 = performance.now();
    if (!this.closed) {
      this.runner.run();
      await this.firstSync.promise;
    }
    return { listMs: Math.round(t1 - t0), firstSyncMs: Math.round(performance.now() - t1) };
  }

  private changed(service: string | undefined): void {
    if (service !== undefined) this.tracker.mark(service);
    this.opts.health.queued();
    this.opts.metrics.queued();
    if (this.services.hasSynced() && this.slices.hasSynced() && this.nodes.hasSynced()) this.runner.run();
  }

  private sliceChanged(s: EndpointSlice, old: EndpointSlice | undefined): void {
    const t = s.metadata.annotations?.[TriggerTimeAnnotation];
    if (t !== undefined && t !== old?.metadata.annotations?.[TriggerTimeAnnotation]) {
      const ms = Date.parse(t);
      if (Number.isFinite(ms) && ms >= this.startedAt) this.triggerTimes.push(ms);
    }
    // A relabelled slice changes both its old and its new Service.
    for (const key of [...sliceOwner(s), ...(old ? sliceOwner(old) : [])]) this.tracker.mark(key);
    this.changed(undefined);
  }

  private nodeView(): NodeView {
    const node = this.nodes.get('', this.opts.nodeName);
    const nodeIPs = nodeInternalIPs(node);
    const flag = this.opts.nodePortAddresses;
    const usesCidrs = flag.some((f) => f.includes('/'));
    const candidates = usesCidrs ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)) : [];
    const addresses = resolveNodePortAddresses(flag, nodeIPs, candidates);
    const noNode = addresses.length === 0 && node === undefined;
    if (noNode && !this.reported.noNode) {
      this.log.warn({ node: this.opts.nodeName }, `Node "${this.opts.nodeName}" not found: NodePorts are not served until it exists (or pass --nodeport-addresses); check --hostname-override`);
    }
    this.reported.noNode = noNode;
    return { name: this.opts.nodeName, nodePortAddresses: addresses };
  }

  private async sync(): Promise<void> {
    if (this.closed) return;
    const started = Date.now();
    const t0 = performance.now();
    const triggers = this.triggerTimes;
    this.triggerTimes = [];
    const table = this.tracker.table(
      this.nodeView(),
      (key) => {
        const slash = key.indexOf('/');
        return this.services.get(key.slice(0, slash), key.slice(slash + 1));
      },
      (key) => this.slices.byIndex('service', key),
      () => this.services.list().map((s) => serviceKey(s.metadata.namespace, s.metadata.name ?? '')),
    );
    this.reportSkipped(table.skipped.map((s) => `${s.service}: ${s.reason}`));

    if (this.vip) await this.vip.sync(new Set([...this.vips(table.shards), ...this.vipsInUse()]));
    const result = await this.dataplane.applyShards(table.shards);
    if (this.vip) await this.vip.sync(this.vips(new Map()));
    this.reportBindErrors(result.errors);

    const seconds = (performance.now() - t0) / 1000;
    this.opts.metrics.syncDuration.observe(seconds);
    this.opts.metrics.bindErrors.set(result.errors.length);
    this.opts.metrics.lastSync.setToCurrentTime();
    const now = Date.now();
    for (const t of triggers) this.opts.metrics.programmingDuration.observe(Math.max(0, (now - t) / 1000));
    this.opts.health.updated(started);
    this.log.debug({ entries: table.size, shards: result.shardsApplied, opened: result.opened.length, updated: result.updated.length, closed: result.closed.length, seconds }, 'synced');
    this.firstSync.resolve();
  }

  /** VIPs (not node addresses) of the table once `changed` shards are applied. */
  private vips(changed: ReadonlyMap<number, readonly ServiceEntry[]>): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i < this.dataplane.shardCount; i++) {
      for (const e of changed.get(i) ?? this.dataplane.entries(i)) if (e.labels?.kind !== 'NodePort') out.add(e.address);
    }
    return out;
  }

  /** VIPs of listeners still bound: kept on the interface until apply() has closed them. */
  private vipsInUse(): string[] {
    return this.dataplane.keys().map((k) => this.dataplane.address(k)?.address ?? '').filter((a) => a !== '');
  }

  private reportSkipped(lines: string[]): void {
    const now = new Set(lines);
    for (const l of now) if (!this.reported.skipped.has(l)) this.log.warn({ reason: 'Skipped' }, l);
    this.reported.skipped = now;
  }

  /**
   * Logs each bind failure once (the data plane retries it on every sync). Kubernetes would also record an
   * Event on the Service; knet's API has no Events yet, so the log is the only place.
   */
  private reportBindErrors(errors: { key: string; reason: string; error: string }[]): void {
    // Shards with failures are applied on every sync, so `errors` always holds every failure there is.
    if (errors.length === 0 && this.reported.errors.size === 0) return;
    const now = new Map<string, string>();
    for (const e of errors) {
      now.set(e.key, e.error);
      if (this.reported.errors.get(e.key) === e.error) continue;
      this.log.error({ service: e.key.slice(0, e.key.indexOf(':')), key: e.key, reason: e.reason }, e.error);
    }
    const bound = new Set(this.dataplane.keys());
    for (const key of this.reported.errors.keys()) if (!now.has(key) && bound.has(key)) this.log.info({ key }, 'bind succeeded after earlier failure');
    this.reported.errors = now;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.firstSync.resolve();
    await this.runner.stop();
    await Promise.all([this.services.stop(), this.slices.stop(), this.nodes.stop()]);
    await this.dataplane.close();
    if (this.vip) await this.vip.sync(new Set());
  }
}

/** The Service a slice belongs to, by its kubernetes.io/service-name label. */
function sliceOwner(s: EndpointSlice): string[] {
  const name = s.metadata.labels?.[LabelServiceName];
  return name ? [serviceKey(s.metadata.namespace, name)] : [];
}

/** The data plane logs each failed bind on every retry; the proxier reports them once instead. */
function quietBindFailures(log: Logger): DataplaneLogger {
  return {
    debug: (o, m) => log.debug(o, m),
    info: (o, m) => log.info(o, m),
    warn: (o, m) => {
      if (m !== 'bind failed') log.warn(o, m);
    },
    error: (o, m) => log.error(o, m),
  };
}
