// Feeds a ClusterZone from four informers (Services, EndpointSlices, Pods, Namespaces), as CoreDNS' kubernetes
// plugin feeds its index from its watches. A bad object is logged and skipped; it never stops the feed.
import type { EndpointSlice, KubeObject, Namespace, Pod, Service } from '@knet/api';
import { LabelServiceName } from '@knet/api';
import { Informer, resources, type KubeClient, type Logger, type ResourceRef } from '@knet/client';
import { LastChangeTriggerTime, slimEndpointSlice, slimMetaOnly, slimService, type ClusterZone } from '@knet/dns';

export interface ZoneSyncOptions {
  client: KubeClient;
  zone: ClusterZone;
  log: Logger;
  /** Informers log under their own component. */
  informerLog?: Logger;
  /** Seconds from an EndpointSlice's last-change-trigger-time to its being in the zone (headless Services). */
  onProgrammed?: (seconds: number) => void;
}

export class ZoneSync {
  private readonly informers: { kind: string; informer: Informer<KubeObject> }[] = [];
  private readonly services: Informer<Service>;
  private synced = false;

  constructor(private readonly opts: ZoneSyncOptions) {
    const { zone } = opts;
    // Each informer caches only what the zone reads (slim*), not whole objects.
    this.services = this.feed<Service>(resources.services, slimService, (s) => zone.upsertService(s), (s) => zone.deleteService(nsOf(s), nameOf(s)));
    this.feed<EndpointSlice>(
      resources.endpointslices,
      slimEndpointSlice,
      (s) => {
        zone.upsertEndpointSlice(s);
        this.programmed(s);
      },
      (s) => zone.deleteEndpointSlice(nsOf(s), nameOf(s)),
    );
    this.feed<Pod>(resources.pods, slimMetaOnly, (p) => zone.upsertPod(p), (p) => zone.deletePod(nsOf(p), nameOf(p)));
    this.feed<Namespace>(resources.namespaces, slimMetaOnly, (n) => zone.upsertNamespace(n), (n) => zone.deleteNamespace(nameOf(n)));
  }

  start(): void {
    for (const { informer } of this.informers) informer.start();
  }

  /** Resolves once every informer has listed once and the zone holds what it listed. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.informers.map(({ informer }) => informer.waitForSync(signal)));
    this.synced = true;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** The informers not synced yet, for /ready. */
  pending(): string[] {
    return this.informers.filter(({ informer }) => !informer.hasSynced()).map(({ kind }) => kind);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map(({ informer }) => informer.stop()));
  }

  private feed<T extends KubeObject>(resource: ResourceRef, transform: (o: T) => T, upsert: (o: T) => void, remove: (o: T) => void): Informer<T> {
    // Lists in pages of 500, as client-go's reflector: a 10,000-object list in one response would spike the heap.
    const informer = new Informer<T>(this.opts.client, resource, { pageSize: 500, transform, ...(this.opts.informerLog ? { log: this.opts.informerLog } : {}) });
    const guarded = (what: string, fn: (o: T) => void) => (o: T) => {
      try {
        fn(o);
      } catch (err) {
        this.opts.log.warn({ kind: resource.plural, key: keyOf(o), op: what, err: (err as Error).message }, 'object skipped');
      }
    };
    informer.on('add', guarded('add', upsert)).on('update', guarded('update', upsert)).on('delete', guarded('delete', remove));
    this.informers.push({ kind: resource.plural, informer: informer as unknown as Informer<KubeObject> });
    return informer;
  }

  /** CoreDNS records programming latency only for headless Services whose slices a controller wrote (annotation set). */
  private programmed(s: EndpointSlice): void {
    if (!this.synced || !this.opts.onProgrammed) return;
    const stamp = s.metadata.annotations?.[LastChangeTriggerTime];
    const svcName = s.metadata.labels?.[LabelServiceName];
    if (!stamp || !svcName) return;
    const svc = this.services.get(nsOf(s), svcName);
    if (svc?.spec?.clusterIP !== 'None') return;
    const at = Date.parse(stamp);
    if (Number.isFinite(at)) this.opts.onProgrammed(Math.max(0, (Date.now() - at) / 1000));
  }
}

function nsOf(o: KubeObject): string {
  return o.metadata?.namespace || 'default';
}

function keyOf(o: KubeObject): string {
  const m = (o as Partial<KubeObject>).metadata;
  return m ? `${m.namespace ? `${m.namespace}/` : ''}${m.name ?? '?'}` : '?';
}

function nameOf(o: KubeObject): string {
  return o.metadata?.name ?? '';
}
