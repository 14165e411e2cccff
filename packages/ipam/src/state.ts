// The allocator state of one ipam server, in memory: the bitmaps of every range
// plus who holds what. Synchronous, so one mutation is applied atomically; the
// server makes each change durable before it answers.
import { IPAllocator } from './bitmap-allocator.js';
import { type IPFamily, formatIP, parseIP } from './cidr.js';
import {
  IpamError,
  invalidArgument,
  ipAlreadyAllocated,
  ipNotInRange,
  portAlreadyAllocated,
  rangeFull,
} from './errors.js';
import { PortAllocator } from './port-allocator.js';
import { ALLOCATION_KINDS, type Allocation, type AllocationKind, type Ranges, rfc3339 } from './types.js';

export interface IpamConfig {
  /** Primary first; at most one IPv4 and one IPv6 CIDR. */
  serviceCIDRs: string[];
  nodePortRange: string;
  loadBalancerCIDRs: string[];
  random?: () => number;
}

export interface RangeUsage {
  kind: AllocationKind;
  range: string;
  size: number;
  used: number;
}

/** The result of a mutation: the allocation, and whether anything changed (must be persisted). */
export interface Mutation {
  allocation: Allocation;
  changed: boolean;
}

const OWNER = /^[^/\s]+\/[^/\s]+$/;

export function allocationKey(kind: AllocationKind, value: string): string {
  return `${kind}/${value}`;
}

export class IpamState {
  readonly ranges: Ranges;
  private readonly clusterIPs = new Map<IPFamily, IPAllocator>();
  private readonly nodePorts: PortAllocator;
  private readonly lbPools: IPAllocator[];
  private readonly records = new Map<string, Allocation>();

  /** Throws IpamError InvalidArgument for a bad configuration. */
  constructor(cfg: IpamConfig) {
    if (!Array.isArray(cfg.serviceCIDRs) || cfg.serviceCIDRs.length === 0) {
      throw invalidArgument('no service CIDR configured: set --service-cluster-ip-range, e.g. 127.96.0.0/12');
    }
    if (cfg.serviceCIDRs.length > 2) {
      throw invalidArgument('--service-cluster-ip-range takes at most two CIDRs: one IPv4 and one IPv6 (dual stack)');
    }
    for (const c of cfg.serviceCIDRs) {
      const a = new IPAllocator(c, { random: cfg.random });
      if (this.clusterIPs.has(a.family)) {
        throw invalidArgument(`--service-cluster-ip-range has two ${a.family} CIDRs; dual stack takes one IPv4 and one IPv6`);
      }
      this.clusterIPs.set(a.family, a);
    }
    this.nodePorts = new PortAllocator(cfg.nodePortRange, { random: cfg.random });
    this.lbPools = (cfg.loadBalancerCIDRs ?? []).map((c) => new IPAllocator(c, { staticBand: false, random: cfg.random }));
    this.ranges = {
      serviceCIDRs: [...this.clusterIPs.values()].map((a) => a.range),
      nodePortRange: this.nodePorts.range,
      loadBalancerCIDRs: this.lbPools.map((a) => a.range),
    };
  }

  allocateClusterIP(req: { owner: string; family: IPFamily; ip?: string }): Mutation {
    checkOwner(req.owner);
    if (req.family !== 'IPv4' && req.family !== 'IPv6') {
      throw invalidArgument(`invalid IP family ${JSON.stringify(req.family)}: must be IPv4 or IPv6`);
    }
    const alloc = this.clusterIPs.get(req.family);
    if (alloc === undefined) {
      const example = req.family === 'IPv6' ? '127.96.0.0/12,fd00:96::/108' : '127.96.0.0/12';
      throw new IpamError(
        'FamilyNotConfigured',
        `${req.family} is not configured on this cluster: no ${req.family} service CIDR; add one to --service-cluster-ip-range (e.g. ${example})`,
      );
    }
    if (req.ip === undefined || req.ip === '') {
      return this.created('ClusterIP', alloc.allocateNext(), req.owner, alloc.family);
    }
    const ip = canonicalIP(req.ip);
    if (parseIP(ip)!.family !== req.family) {
      throw invalidArgument(`IP ${ip} is not an ${req.family} address, but family ${req.family} was requested`);
    }
    return this.claim('ClusterIP', ip, req.owner);
  }

  allocateNodePort(req: { owner: string; port?: number }): Mutation {
    checkOwner(req.owner);
    if (req.port === undefined || req.port === 0) {
      return this.created('NodePort', String(this.nodePorts.allocateNext()), req.owner);
    }
    if (!Number.isInteger(req.port) || req.port < 1 || req.port > 65535) {
      throw invalidArgument(`invalid port ${JSON.stringify(req.port)}: must be 1-65535`);
    }
    return this.claim('NodePort', String(req.port), req.owner);
  }

  allocateLoadBalancerIP(req: { owner: string; ip?: string }): Mutation {
    checkOwner(req.owner);
    if (this.lbPools.length === 0) {
      throw new IpamError(
        'FamilyNotConfigured',
        'no load balancer IP range is configured: set --load-balancer-ip-range (e.g. 127.200.0.0/16)',
      );
    }
    if (req.ip === undefined || req.ip === '') {
      for (const pool of this.lbPools) {
        if (pool.free > 0) return this.created('LoadBalancerIP', pool.allocateNext(), req.owner, pool.family);
      }
      throw rangeFull(this.ranges.loadBalancerCIDRs.join(','));
    }
    return this.claim('LoadBalancerIP', canonicalIP(req.ip), req.owner);
  }

  /** Releases kind/value; releasing a free value is not an error. Returns what was released. */
  release(kind: AllocationKind, value: string): Allocation | null {
    const v = canonicalValue(kind, value);
    const key = allocationKey(kind, v);
    const rec = this.records.get(key);
    if (rec === undefined) return null;
    this.records.delete(key);
    this.releaseBit(kind, v);
    return rec;
  }

  /**
   * Takes a specific value for owner. The same owner asking again gets its
   * allocation back unchanged (idempotent retries). Throws NotInRange / AlreadyAllocated.
   */
  claim(kind: AllocationKind, value: string, owner: string): Mutation {
    const v = canonicalValue(kind, value);
    const existing = this.records.get(allocationKey(kind, v));
    if (existing !== undefined) {
      if (existing.owner === owner) return { allocation: existing, changed: false };
      throw kind === 'NodePort' ? portAlreadyAllocated(this.nodePorts.range) : ipAlreadyAllocated(this.rangeFor(kind, v));
    }
    const family = this.allocateBit(kind, v);
    return this.created(kind, v, owner, family);
  }

  /** Gives an existing allocation to another owner (repair: the Service that holds it wins). */
  reassign(kind: AllocationKind, value: string, owner: string): Allocation | null {
    const key = allocationKey(kind, canonicalValue(kind, value));
    const rec = this.records.get(key);
    if (rec === undefined) return null;
    const next = { ...rec, owner };
    this.records.set(key, next);
    return next;
  }

  /**
   * Loads an allocation read back from the database. Returns false when its
   * value is outside the configured ranges (they changed): it stays recorded,
   * so it can be listed and released, but no bitmap holds it.
   */
  load(a: Allocation): boolean {
    const v = canonicalValue(a.kind, a.value);
    this.records.set(allocationKey(a.kind, v), { ...a, value: v });
    try {
      this.allocateBit(a.kind, v);
      return true;
    } catch (err) {
      if (err instanceof IpamError && err.code === 'NotInRange') return false;
      throw err;
    }
  }

  get(kind: AllocationKind, value: string): Allocation | undefined {
    return this.records.get(allocationKey(kind, canonicalValue(kind, value)));
  }

  /** Every allocation, by kind, then numerically by value. */
  list(kind?: AllocationKind): Allocation[] {
    const out = [...this.records.values()].filter((a) => kind === undefined || a.kind === kind);
    return out.sort(compareAllocations);
  }

  /** Size and use of every range, for metrics. */
  usage(): RangeUsage[] {
    return [
      ...[...this.clusterIPs.values()].map((a) => ({ kind: 'ClusterIP' as const, range: a.range, size: a.size, used: a.used })),
      { kind: 'NodePort', range: this.nodePorts.range, size: this.nodePorts.size, used: this.nodePorts.used },
      ...this.lbPools.map((a) => ({ kind: 'LoadBalancerIP' as const, range: a.range, size: a.size, used: a.used })),
    ];
  }

  private created(kind: AllocationKind, value: string, owner: string, family?: IPFamily): Mutation {
    const allocation: Allocation = { kind, value, owner, ...(family ? { family } : {}), allocatedAt: rfc3339() };
    this.records.set(allocationKey(kind, value), allocation);
    return { allocation, changed: true };
  }

  /** Sets the bitmap bit of kind/value; returns the IP family. Throws NotInRange / AlreadyAllocated. */
  private allocateBit(kind: AllocationKind, v: string): IPFamily | undefined {
    if (kind === 'NodePort') {
      this.nodePorts.allocate(Number(v));
      return undefined;
    }
    const a = this.allocatorFor(kind, v);
    if (a === undefined) throw ipNotInRange(this.rangeFor(kind, v));
    a.allocate(v);
    return a.family;
  }

  private releaseBit(kind: AllocationKind, v: string): void {
    if (kind === 'NodePort') this.nodePorts.release(Number(v));
    else this.allocatorFor(kind, v)?.release(v);
  }

  private allocatorFor(kind: AllocationKind, ip: string): IPAllocator | undefined {
    if (kind === 'ClusterIP') {
      const a = this.clusterIPs.get(parseIP(ip)!.family);
      return a?.contains(ip) ? a : undefined;
    }
    return this.lbPools.find((p) => p.contains(ip));
  }

  /** The range an error about kind/value names: the family's service CIDR, or all LB pools. */
  private rangeFor(kind: AllocationKind, ip: string): string {
    if (kind === 'NodePort') return this.nodePorts.range;
    if (kind === 'ClusterIP') {
      const family = parseIP(ip)?.family;
      const a = family ? this.clusterIPs.get(family) : undefined;
      return a?.range ?? this.ranges.serviceCIDRs.join(',');
    }
    const a = this.lbPools.find((p) => p.contains(ip));
    return a?.range ?? this.ranges.loadBalancerCIDRs.join(',');
  }
}

function checkOwner(owner: unknown): void {
  if (typeof owner !== 'string' || !OWNER.test(owner)) {
    throw invalidArgument(`invalid owner ${JSON.stringify(owner)}: must be "namespace/name"`);
  }
}

function canonicalIP(ip: string): string {
  const parsed = parseIP(ip);
  if (parsed === null) throw invalidArgument(`${JSON.stringify(ip)} is not a valid IP address`);
  return formatIP(parsed);
}

/** Canonical text of a value of kind; throws InvalidArgument when it is not one. */
export function canonicalValue(kind: AllocationKind, value: string): string {
  if (!ALLOCATION_KINDS.includes(kind)) throw invalidArgument(`unknown allocation kind ${JSON.stringify(kind)}`);
  if (kind !== 'NodePort') return canonicalIP(value);
  const port = Number(value);
  if (!/^\d{1,5}$/.test(String(value)) || port < 1 || port > 65535) {
    throw invalidArgument(`invalid port ${JSON.stringify(value)}: must be 1-65535`);
  }
  return String(port);
}

function compareAllocations(a: Allocation, b: Allocation): number {
  if (a.kind !== b.kind) return ALLOCATION_KINDS.indexOf(a.kind) - ALLOCATION_KINDS.indexOf(b.kind);
  if (a.kind === 'NodePort') return Number(a.value) - Number(b.value);
  const x = parseIP(a.value)!;
  const y = parseIP(b.value)!;
  if (x.family !== y.family) return x.family === 'IPv4' ? -1 : 1;
  return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
}
