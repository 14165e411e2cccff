// ClusterIPs and NodePorts for Services, from ipam, following kube-apiserver's service REST:
// allocate on create, allocate/release on type changes, release on delete, and undo what was
// taken when the store write fails. Allocations are owned by "namespace/name".
import { invalid, invalidStatus, type FieldError, type IPFamily, type Service } from '@knet/api';
import { ipamErrorCode, type Ipam } from './deps.js';
import { Limiter } from './limiter.js';
import { ApiError, errors } from './status.js';

export interface Held { ips: string[]; ports: number[] }

const empty = (): Held => ({ ips: [], ports: [] });

export function familyOf(ip: string): IPFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

export function hasClusterIP(svc: Service): boolean {
  return (svc.spec.type ?? 'ClusterIP') !== 'ExternalName' && svc.spec.clusterIP !== 'None';
}

export function needsNodePorts(svc: Service): boolean {
  const t = svc.spec.type;
  return t === 'NodePort' || (t === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckNodePort(svc: Service): boolean {
  return svc.spec.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';
}

/** What a stored Service holds in ipam. */
export function heldBy(svc: Service): Held {
  const ips = (svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
  const ports = new Set<number>();
  for (const p of svc.spec.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
  if (svc.spec.healthCheckNodePort) ports.add(svc.spec.healthCheckNodePort);
  return { ips: hasClusterIP(svc) ? ips : [], ports: [...ports] };
}

/**
 * On update, a user who leaves out allocated values keeps them (kubectl replace / apply of a
 * manifest without clusterIP or nodePort), as kube-apiserver's patchAllocatedValues does.
 */
export function patchAllocatedValues(svc: Service, old: Service): void {
  if (hasClusterIP(old) && hasClusterIP(svc) && !svc.spec.clusterIP && !(svc.spec.clusterIPs?.length)) {
    if (old.spec.clusterIP) svc.spec.clusterIP = old.spec.clusterIP;
    if (old.spec.clusterIPs) svc.spec.clusterIPs = [...old.spec.clusterIPs];
    if (!svc.spec.ipFamilies && old.spec.ipFamilies) svc.spec.ipFamilies = [...old.spec.ipFamilies];
    if (!svc.spec.ipFamilyPolicy && old.spec.ipFamilyPolicy) svc.spec.ipFamilyPolicy = old.spec.ipFamilyPolicy;
  }
  if (needsNodePorts(svc) && needsNodePorts(old)) {
    for (const p of svc.spec.ports ?? []) {
      if (p.nodePort) continue;
      const prev = (old.spec.ports ?? []).find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (prev?.nodePort) p.nodePort = prev.nodePort;
    }
  }
  if (needsHealthCheckNodePort(svc) && needsHealthCheckNodePort(old) && !svc.spec.healthCheckNodePort && old.spec.healthCheckNodePort) {
    svc.spec.healthCheckNodePort = old.spec.healthCheckNodePort;
  }
}

/** Clears fields the new type cannot have when the user left them unchanged (kube-apiserver's dropTypeDependentFields). */
export function dropTypeDependentFields(svc: Service, old: Service): void {
  const s = svc.spec;
  if (s.type === 'ExternalName' && (old.spec.type ?? 'ClusterIP') !== 'ExternalName') {
    if (sameList(s.clusterIPs, old.spec.clusterIPs) || s.clusterIP === old.spec.clusterIP) {
      delete s.clusterIP;
      delete s.clusterIPs;
    }
    if (sameList(s.ipFamilies, old.spec.ipFamilies)) delete s.ipFamilies;
    if (s.ipFamilyPolicy === old.spec.ipFamilyPolicy) delete s.ipFamilyPolicy;
  }
  if (!needsNodePorts(svc) && needsNodePorts(old)) {
    for (const p of s.ports ?? []) {
      const prev = (old.spec.ports ?? []).find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (p.nodePort && prev?.nodePort === p.nodePort) delete p.nodePort;
    }
  }
  if (!needsHealthCheckNodePort(svc) && s.healthCheckNodePort === old.spec.healthCheckNodePort) delete s.healthCheckNodePort;
  if (s.type !== 'NodePort' && s.type !== 'LoadBalancer' && s.externalTrafficPolicy === old.spec.externalTrafficPolicy) {
    delete s.externalTrafficPolicy;
  }
}

function sameList(a: string[] | undefined, b: string[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

export interface ServiceAllocatorOptions {
  /** Used when ipam cannot tell its ranges (for messages and family order). */
  serviceCIDRs?: string[];
  /** Most ipam calls in flight at once; default 32. */
  maxConcurrentCalls?: number;
  onReleaseError?: (err: unknown, what: string) => void;
}

export class ServiceAllocator {
  private families?: IPFamily[];
  private readonly limiter: Limiter;

  constructor(private readonly ipam: Ipam, private readonly opts: ServiceAllocatorOptions = {}) {
    this.limiter = new Limiter(opts.maxConcurrentCalls ?? 32);
  }

  /** Configured IP families, primary first. */
  async clusterFamilies(): Promise<IPFamily[]> {
    if (this.families) return this.families;
    try {
      const r = await this.limiter.run(() => this.ipam.ranges());
      this.families = r.serviceCIDRs.map((c) => familyOf(c.split('/')[0] ?? ''));
    } catch (err) {
      if (this.opts.serviceCIDRs?.length) return this.opts.serviceCIDRs.map((c) => familyOf(c));
      throw unavailable(err);
    }
    return this.families;
  }

  /** Allocates what a new Service needs, filling spec in place. On error nothing stays allocated. */
  async allocateOnCreate(svc: Service): Promise<Held> {
    const held = empty();
    try {
      if (hasClusterIP(svc)) await this.allocateIPs(svc, [], held);
      else if (svc.spec.clusterIP === 'None') await this.headlessFamilies(svc);
      if (needsNodePorts(svc)) await this.allocatePorts(svc, undefined, held);
      return held;
    } catch (err) {
      await this.release(held);
      throw err;
    }
  }

  /** Allocates what an update adds; returns what to release once the update is stored. */
  async allocateOnUpdate(svc: Service, old: Service): Promise<{ allocated: Held; toRelease: Held }> {
    const allocated = empty();
    const before = heldBy(old);
    try {
      if (hasClusterIP(svc)) {
        const keep = hasClusterIP(old) ? before.ips : [];
        await this.allocateIPs(svc, keep, allocated);
      }
      if (needsNodePorts(svc)) await this.allocatePorts(svc, old, allocated);
    } catch (err) {
      await this.release(allocated);
      throw err;
    }
    const after = heldBy(svc);
    return {
      allocated,
      toRelease: { ips: before.ips.filter((ip) => !after.ips.includes(ip)), ports: before.ports.filter((p) => !after.ports.includes(p)) },
    };
  }

  /** Best effort: a failed release is reported and left to ipam's repair loop. */
  async release(held: Held): Promise<void> {
    for (const ip of held.ips) {
      try { await this.limiter.run(() => this.ipam.releaseClusterIP(ip)); } catch (err) { this.opts.onReleaseError?.(err, `clusterIP ${ip}`); }
    }
    for (const p of held.ports) {
      try { await this.limiter.run(() => this.ipam.releaseNodePort(p)); } catch (err) { this.opts.onReleaseError?.(err, `nodePort ${p}`); }
    }
  }

  private async headlessFamilies(svc: Service): Promise<void> {
    const configured = await this.clusterFamilies();
    const families = this.chooseFamilies(svc, configured, []);
    svc.spec.ipFamilies = families;
    svc.spec.ipFamilyPolicy ??= 'SingleStack';
    svc.spec.clusterIPs = ['None'];
  }

  private chooseFamilies(svc: Service, configured: IPFamily[], requestedIPs: string[]): IPFamily[] {
    const name = svc.metadata.name ?? '';
    const s = svc.spec;
    const policy = s.ipFamilyPolicy ?? 'SingleStack';
    const errs: FieldError[] = [];
    const given: IPFamily[] = s.ipFamilies?.length ? [...s.ipFamilies] : requestedIPs.map(familyOf);
    given.forEach((f, i) => {
      if (!configured.includes(f)) errs.push(invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
    });
    if (policy === 'RequireDualStack' && configured.length < 2) {
      errs.push(invalid('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services'));
    }
    if (policy === 'SingleStack' && given.length > 1) {
      errs.push(invalid('spec.ipFamilyPolicy', policy, 'must be RequireDualStack or PreferDualStack when multiple IP families are specified'));
    }
    if (errs.length > 0) throw new ApiError(invalidStatus('Service', '', name, errs));
    const families = given.length > 0 ? given.slice(0, 1) : [configured[0] ?? 'IPv4'];
    if (policy !== 'SingleStack') {
      const second = given[1] ?? configured.find((f) => f !== families[0]);
      if (second && second !== families[0]) families.push(second);
    }
    return families;
  }

  private async allocateIPs(svc: Service, keep: string[], held: Held): Promise<void> {
    const s = svc.spec;
    const owner = ownerOf(svc);
    const requested = s.clusterIPs?.length ? [...s.clusterIPs] : s.clusterIP ? [s.clusterIP] : [];
    const configured = await this.clusterFamilies();
    const families = this.chooseFamilies(svc, configured, requested);
    const ips: string[] = [];
    for (let i = 0; i < families.length; i++) {
      const want = requested[i];
      if (want && keep.includes(want)) {
        ips.push(want);
        continue;
      }
      try {
        const ip = await this.limiter.run(() => this.ipam.allocateClusterIP({ owner, family: families[i]!, ...(want ? { ip: want } : {}) }));
        held.ips.push(ip);
        ips.push(ip);
      } catch (err) {
        throw ipError(err, svc, want ? requested : [], want);
      }
    }
    s.clusterIP = ips[0]!;
    s.clusterIPs = ips;
    s.ipFamilies = families;
    s.ipFamilyPolicy ??= 'SingleStack';
  }

  private async allocatePorts(svc: Service, old: Service | undefined, held: Held): Promise<void> {
    const owner = ownerOf(svc);
    const oldPorts = old && needsNodePorts(old) ? heldBy(old).ports : [];
    const byServicePort = new Map<number, number>();
    const taken = new Set<number>();
    const ports = svc.spec.ports ?? [];
    // explicit nodePorts first, so a dynamic pick cannot take one the user asked for
    for (const pass of ['explicit', 'dynamic'] as const) {
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i]!;
        if ((pass === 'explicit') !== Boolean(p.nodePort)) continue;
        if (!p.nodePort) {
          const same = byServicePort.get(p.port);
          if (same) {
            p.nodePort = same;
            continue;
          }
        }
        if (p.nodePort && (taken.has(p.nodePort) || oldPorts.includes(p.nodePort))) {
          byServicePort.set(p.port, p.nodePort);
          continue;
        }
        try {
          const np = await this.limiter.run(() => this.ipam.allocateNodePort({ owner, ...(p.nodePort ? { port: p.nodePort } : {}) }));
          held.ports.push(np);
          taken.add(np);
          p.nodePort = np;
          byServicePort.set(p.port, np);
        } catch (err) {
          throw portError(err, svc, `spec.ports[${i}].nodePort`, p.nodePort);
        }
      }
    }
    if (needsHealthCheckNodePort(svc) && !svc.spec.healthCheckNodePort) {
      try {
        const np = await this.limiter.run(() => this.ipam.allocateNodePort({ owner }));
        held.ports.push(np);
        svc.spec.healthCheckNodePort = np;
      } catch (err) {
        throw portError(err, svc, 'spec.healthCheckNodePort', undefined);
      }
    }
  }
}

export function ownerOf(svc: Service): string {
  return `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
}

function unavailable(err: unknown): ApiError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError(errors.unavailable(`service allocation is unavailable: ${msg}`));
}

function ipError(err: unknown, svc: Service, requested: string[], ip: string | undefined): ApiError {
  const code = ipamErrorCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'RangeFull') return new ApiError(errors.internal(`failed to allocate a serviceIP: ${msg}`));
  if (ip && (code === 'AlreadyAllocated' || code === 'NotInRange' || code === 'InvalidArgument' || code === 'FamilyNotConfigured')) {
    return new ApiError(invalidStatus('Service', '', svc.metadata.name ?? '',
      [invalid('spec.clusterIPs', requested, `failed to allocate IP ${ip}: ${msg}`)]));
  }
  if (code === 'FamilyNotConfigured' || code === 'InvalidArgument') {
    return new ApiError(invalidStatus('Service', '', svc.metadata.name ?? '', [invalid('spec.ipFamilies', svc.spec.ipFamilies ?? [], msg)]));
  }
  return unavailable(err);
}

function portError(err: unknown, svc: Service, field: string, port: number | undefined): ApiError {
  const code = ipamErrorCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'RangeFull') return new ApiError(errors.internal(`failed to allocate a nodePort: ${msg}`));
  if (code === 'AlreadyAllocated' || code === 'NotInRange' || code === 'InvalidArgument') {
    return new ApiError(invalidStatus('Service', '', svc.metadata.name ?? '', [invalid(field, port, msg)]));
  }
  return unavailable(err);
}
