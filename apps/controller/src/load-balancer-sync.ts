// Keeps LoadBalancer Services' status.loadBalancer.ingress in step with ipam's pool:
// one IP per Service (spec.loadBalancerIP honoured), published with ipMode VIP through
// services/status, released when the type changes or the Service goes. Which IPs ipam
// holds for which Service is remembered (and relearnt from ipam when first connected), because
// the apiserver clears the status itself when the type changes.
//
// ipam is connected on first need (a LoadBalancer Service, or an IP to release): a cluster
// without LoadBalancers never loads gRPC (~5 MiB of an idle controller). An IP whose Service
// stopped being a LoadBalancer while the controller was down is then released by ipam's own
// repair loop rather than here.
import type { Service } from '@knet/api';
import { resources, type KubeClient, type Logger } from '@knet/client';
import { ingressFor, ingressIPs, ingressIs, loadBalancerAction, withIngress } from './load-balancer.js';
import type { ControllerMetrics } from './metrics.js';

/** The part of IpamClient used here. */
export interface LoadBalancerAllocator {
  allocateLoadBalancerIP(req: { owner: string; ip?: string }): Promise<string>;
  releaseLoadBalancerIP(ip: string): Promise<void>;
  list?(kind: 'LoadBalancerIP'): Promise<{ value: string; owner: string }[]>;
}

export interface LoadBalancerSyncOptions {
  client: KubeClient;
  /** Connects to ipam, called once on first need. Without it LoadBalancer Services get no ingress IP (logged once per Service). */
  ipam?: () => Promise<LoadBalancerAllocator>;
  log: Logger;
  metrics?: ControllerMetrics;
  signal?: AbortSignal;
}

export class LoadBalancerSync {
  /** IPs ipam holds per Service key (namespace/name, the allocation owner). */
  private readonly owned = new Map<string, Set<string>>();
  private readonly warnedNoIpam = new Set<string>();
  private connected: Promise<LoadBalancerAllocator> | undefined;

  constructor(private readonly opts: LoadBalancerSyncOptions) {}

  /** ipam, connected on first use; a failed connect is tried again next time. */
  private allocator(): Promise<LoadBalancerAllocator> {
    this.connected ??= this.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  private async connect(): Promise<LoadBalancerAllocator> {
    const ipam = await this.opts.ipam!();
    await this.learnOwnedIPs(ipam);
    return ipam;
  }

  /** Learns the current allocations from ipam, so IPs are released even after a restart. */
  private async learnOwnedIPs(ipam: LoadBalancerAllocator): Promise<void> {
    const { log } = this.opts;
    if (!ipam.list) return;
    try {
      for (const a of await ipam.list('LoadBalancerIP')) this.ownedBy(a.owner).add(a.value);
    } catch (err) {
      log.warn({ err: errText(err) }, 'cannot list LoadBalancer IPs from ipam; its repair loop will release leaked ones');
    }
  }

  /** The Service's final state: its published IPs are released with the rest. */
  serviceDeleted(key: string, svc: Service): void {
    for (const ip of ingressIPs(svc)) this.ownedBy(key).add(ip);
  }

  /** The Service is gone: release everything it held. */
  /** Whether load balancer IPs are held for this Service. */
  holds(key: string): boolean {
    return this.owned.has(key);
  }

  async releaseAll(key: string): Promise<void> {
    this.warnedNoIpam.delete(key);
    if (!this.opts.ipam) this.owned.delete(key);
    else if (this.owned.has(key)) await this.release(key, () => true);
  }

  async sync(key: string, svc: Service): Promise<void> {
    const { client, log, metrics, signal } = this.opts;
    const action = loadBalancerAction(svc);
    if (action.kind !== 'assign') {
      if (action.kind === 'clear') {
        await client.update(resources.services, svc.metadata.namespace, withIngress(svc, []), { subresource: 'status', signal });
        log.info({ key, ips: action.release }, 'service is no longer a LoadBalancer; ingress cleared');
        for (const ip of action.release) this.ownedBy(key).add(ip);
      }
      if (this.opts.ipam && this.owned.has(key)) await this.release(key, () => true);
      return;
    }
    if (!this.opts.ipam) {
      if (!this.warnedNoIpam.has(key)) {
        this.warnedNoIpam.add(key);
        log.warn({ key }, 'LoadBalancer Service gets no ingress IP: the controller runs without --ipam');
      }
      return;
    }
    const ipam = await this.allocator();
    const owned = this.ownedBy(key);
    let ip = action.ip ? (owned.has(action.ip) ? action.ip : undefined) : [...owned].sort()[0];
    if (!ip) {
      // Idempotent for the same owner: asking again for an IP it holds succeeds.
      ip = await ipam.allocateLoadBalancerIP({ owner: key, ip: action.ip });
      owned.add(ip);
      metrics?.loadBalancerIPs.inc({ operation: 'assign' });
    }
    if (!ingressIs(svc, ip)) {
      await client.update(resources.services, svc.metadata.namespace, withIngress(svc, ingressFor(ip)), { subresource: 'status', signal });
      log.info({ key, ip }, 'load balancer ingress IP assigned');
    }
    const keep = ip;
    await this.release(key, (other) => other !== keep);
  }

  /** Releases the Service's IPs that `which` selects; the rest stay owned. */
  private async release(key: string, which: (ip: string) => boolean): Promise<void> {
    const owned = this.ownedBy(key);
    for (const ip of [...owned]) {
      if (!which(ip)) continue;
      await (await this.allocator()).releaseLoadBalancerIP(ip);
      owned.delete(ip);
      this.opts.metrics?.loadBalancerIPs.inc({ operation: 'release' });
      this.opts.log.info({ key, ip }, 'load balancer IP released');
    }
    if (owned.size === 0) this.owned.delete(key);
  }

  private ownedBy(key: string): Set<string> {
    let set = this.owned.get(key);
    if (!set) this.owned.set(key, (set = new Set()));
    return set;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
