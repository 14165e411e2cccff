// The cluster zone: an in-memory index of Services, EndpointSlices and Pods, and a
// pure lookup from a question to an answer (Kubernetes DNS schema 1.1.0, with
// CoreDNS's kubernetes plugin as the reference where the spec leaves room).
import type { EndpointSlice, Namespace, Pod, Service } from '@knet/api';
import { LabelServiceName } from '@knet/api';
import { canonicalIP, dashedIP, ipFromDashed, ipFromReverseName } from './ip.js';
import { addressRR, QCLASS, QTYPE, type Answer, type RR, type SrvData } from './records.js';

export interface ZoneOptions {
  /** The cluster domain, 'cluster.local' by default. */
  clusterDomain?: string;
  /** TTL of every record and the negative TTL (SOA minimum); 5 s as CoreDNS. */
  ttl?: number;
  /** 'insecure' (default) answers a-b-c-d.<ns>.pod.<zone> for any IP, as CoreDNS "pods insecure". */
  podRecords?: 'insecure' | 'disabled';
  /** Addresses of the DNS service itself (kube-dns ClusterIPs): ns.dns.<zone> and the apex NS glue. */
  nameservers?: string[];
}

/** Thrown for objects the zone cannot index (no name); the caller logs and goes on. */
export class InvalidObjectError extends Error {
  readonly reason = 'Invalid';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidObjectError';
  }
}

export interface Question {
  name: string;
  /** Query type number (1 = A, 28 = AAAA, 33 = SRV ...). */
  type: number;
  /** Query class number, IN (1) when absent. */
  class?: number;
}

interface PortEntry {
  name: string;
  protocol: string;
  port: number;
}

interface ServiceEntry {
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  ips: string[];
  externalName: string;
  ports: PortEntry[];
  publishNotReady: boolean;
}

interface EndpointEntry {
  ip: string;
  /** Lower-cased; without one the endpoint's label is its dashed IP, made when asked (not kept: 100,000s of endpoints). */
  hostname: string | undefined;
  ready: boolean;
}

interface SliceEntry {
  namespace: string;
  service: string | undefined;
  endpoints: EndpointEntry[];
  ports: PortEntry[];
}

/** What exists at one name: its data by kind. */
interface Node {
  exists: boolean;
  addrs: string[];
  /** One entry per (address, port) pair, before de-duplication, as CoreDNS counts them for weights. */
  srv: { port: number; target: string; addr: string }[];
  cname?: string;
  txt?: string[];
}

const NX: Node = { exists: false, addrs: [], srv: [] };
const EMPTY: Node = { exists: true, addrs: [], srv: [] };
const MAX_CNAME_CHAIN = 8;

/** The per-endpoint label: hostname, else CoreDNS's dashed IP. */
function labelOf(ep: EndpointEntry): string {
  return ep.hostname ?? dashedIP(ep.ip);
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

function stripDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

function portsOf(list: { name?: string; protocol?: string; port?: number }[] | undefined): PortEntry[] {
  const out: PortEntry[] = [];
  for (const p of list ?? []) {
    if (typeof p.port !== 'number') continue;
    out.push({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port });
  }
  return out;
}

function metaOf(kind: string, o: { metadata?: { name?: string; namespace?: string } }): { ns: string; name: string } {
  const name = o?.metadata?.name;
  if (!name) throw new InvalidObjectError(`${kind} without metadata.name`);
  return { ns: o.metadata?.namespace || 'default', name };
}

export class ClusterZone {
  readonly zone: string;
  readonly ttl: number;
  private readonly podRecords: 'insecure' | 'disabled';
  private nameservers: string[];
  private readonly services = new Map<string, ServiceEntry>();
  private readonly slices = new Map<string, SliceEntry>();
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly pods = new Map<string, string>();
  private readonly namespaces = new Set<string>();
  /** How many objects live in each namespace: a namespace with objects exists even unseen. */
  private readonly nsRefs = new Map<string, number>();
  private reverse: Map<string, string[]> | null = null;
  private serialValue: number;
  private readonly serialListeners = new Set<(serial: number) => void>();

  constructor(opts: ZoneOptions = {}) {
    this.zone = stripDot(opts.clusterDomain ?? 'cluster.local').toLowerCase();
    if (!this.zone) throw new InvalidObjectError('clusterDomain must not be empty');
    this.ttl = opts.ttl ?? 5;
    this.podRecords = opts.podRecords ?? 'insecure';
    this.nameservers = this.ips(opts.nameservers ?? []);
    this.serialValue = Math.floor(Date.now() / 1000);
  }

  /** SOA serial: moves forward on every change of the zone. */
  get serial(): number {
    return this.serialValue;
  }

  /**
   * Calls fn with the new serial on every change, synchronously (before the next question can be asked):
   * for caches of answers kept outside JS, which cannot read `serial` per question. Returns the unsubscribe.
   */
  onSerialChange(fn: (serial: number) => void): () => void {
    this.serialListeners.add(fn);
    return () => this.serialListeners.delete(fn);
  }

  /** Object counts, for gauges. */
  stats(): { services: number; endpointSlices: number; pods: number; namespaces: number } {
    const namespaces = new Set([...this.namespaces, ...this.nsRefs.keys()]);
    return { services: this.services.size, endpointSlices: this.slices.size, pods: this.pods.size, namespaces: namespaces.size };
  }

  /** The DNS service's own addresses changed (e.g. the kube-dns Service got its ClusterIPs). */
  setNameservers(ips: string[]): void {
    this.nameservers = this.ips(ips);
    this.touch();
  }

  upsertNamespace(n: Namespace): void {
    const { name } = metaOf('Namespace', n);
    if (!this.namespaces.has(name)) {
      this.namespaces.add(name);
      this.touch();
    }
  }

  deleteNamespace(name: string): void {
    if (this.namespaces.delete(name)) this.touch();
  }

  upsertService(svc: Service): void {
    const { ns, name } = metaOf('Service', svc);
    const spec = svc.spec ?? {};
    let entry: ServiceEntry;
    if (spec.type === 'ExternalName') {
      entry = { kind: 'ExternalName', ips: [], externalName: stripDot(spec.externalName ?? '').toLowerCase(), ports: [], publishNotReady: false };
    } else {
      const raw = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
      const headless = raw[0] === 'None';
      entry = {
        kind: headless ? 'Headless' : 'ClusterIP',
        ips: headless ? [] : this.ips(raw),
        externalName: '',
        ports: portsOf(spec.ports),
        publishNotReady: spec.publishNotReadyAddresses === true,
      };
    }
    const k = key(ns, name);
    const old = this.services.get(k);
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return;
    if (!old) this.ref(ns, 1);
    this.services.set(k, entry);
    this.touch();
  }

  deleteService(ns: string, name: string): void {
    if (this.services.delete(key(ns, name))) {
      this.ref(ns, -1);
      this.touch();
    }
  }

  upsertEndpointSlice(s: EndpointSlice): void {
    const { ns, name } = metaOf('EndpointSlice', s);
    const endpoints: EndpointEntry[] = [];
    if (s.addressType === 'IPv4' || s.addressType === 'IPv6') {
      for (const ep of s.endpoints ?? []) {
        const hostname = ep.hostname ? ep.hostname.toLowerCase() : undefined;
        // A nil ready condition means "unknown", which consumers treat as ready.
        const ready = ep.conditions?.ready !== false;
        for (const a of ep.addresses ?? []) {
          const ip = canonicalIP(a);
          if (!ip) continue;
          endpoints.push({ ip, hostname, ready });
        }
      }
    }
    const entry: SliceEntry = { namespace: ns, service: s.metadata.labels?.[LabelServiceName], endpoints, ports: portsOf(s.ports) };
    const k = key(ns, name);
    const old = this.slices.get(k);
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return;
    if (old) this.unindexSlice(k, old);
    else this.ref(ns, 1);
    this.slices.set(k, entry);
    if (entry.service) {
      const sk = key(ns, entry.service);
      let set = this.slicesByService.get(sk);
      if (!set) this.slicesByService.set(sk, (set = new Set()));
      set.add(k);
    }
    this.touch();
  }

  deleteEndpointSlice(ns: string, name: string): void {
    const k = key(ns, name);
    const old = this.slices.get(k);
    if (!old) return;
    this.unindexSlice(k, old);
    this.slices.delete(k);
    this.ref(ns, -1);
    this.touch();
  }

  /** Pods only make their namespace known: in insecure mode pod names are synthesized from the IP. */
  upsertPod(p: Pod): void {
    const { ns, name } = metaOf('Pod', p);
    const k = key(ns, name);
    if (this.pods.has(k)) return;
    this.pods.set(k, ns);
    this.ref(ns, 1);
    this.touch();
  }

  deletePod(ns: string, name: string): void {
    if (this.pods.delete(key(ns, name))) {
      this.ref(ns, -1);
      this.touch();
    }
  }

  /** True when name (any case, trailing dot or not) is the zone or below it. */
  contains(name: string): boolean {
    const n = stripDot(name).toLowerCase();
    return n === this.zone || n.endsWith(`.${this.zone}`);
  }

  resolve(q: Question): Answer {
    const asked = stripDot(q.name);
    const lower = asked.toLowerCase();
    const qclass = q.class ?? QCLASS.IN;
    if (lower === this.zone || lower.endsWith(`.${this.zone}`)) {
      if (qclass !== QCLASS.IN && qclass !== QCLASS.ANY) return this.reply('REFUSED', [], [], false);
      if (q.type === QTYPE.AXFR || q.type === QTYPE.IXFR) return this.reply('REFUSED', [], [], true);
      return this.resolveInZone(asked, lower, q.type);
    }
    const ip = ipFromReverseName(lower);
    if (ip && (qclass === QCLASS.IN || qclass === QCLASS.ANY)) {
      const names = this.reverseIndex().get(ip);
      if (names) {
        const answers: RR[] = q.type === QTYPE.PTR || q.type === QTYPE.ANY ? names.map((n) => ({ name: asked, type: 'PTR', ttl: this.ttl, class: 'IN', data: n })) : [];
        return this.reply('NOERROR', answers, [], true);
      }
    }
    // Not ours: the server forwards it (or refuses when it may not).
    return { rcode: 'REFUSED', authoritative: false, answers: [], authority: [], additional: [], inZone: false };
  }

  private resolveInZone(asked: string, lower: string, qtype: number): Answer {
    const zoneAsked = asked.slice(asked.length - this.zone.length);
    const answers: RR[] = [];
    const additional: RR[] = [];
    let owner = asked;
    let node = this.lookup(lower);
    if (!node.exists) return this.reply('NXDOMAIN', [], [this.soa(zoneAsked)], true);
    for (let hop = 0; node.cname !== undefined && hop < MAX_CNAME_CHAIN; hop++) {
      // RFC 1034: a CNAME answers every type; follow it while it stays in the zone.
      answers.push({ name: owner, type: 'CNAME', ttl: this.ttl, class: 'IN', data: node.cname });
      if (qtype === QTYPE.CNAME || !this.contains(node.cname)) return this.reply('NOERROR', answers, [], true);
      owner = node.cname;
      node = this.lookup(node.cname);
    }
    if (node.cname !== undefined) return this.reply('NOERROR', answers, [], true);
    const isApex = lower === this.zone && owner === asked;
    switch (qtype) {
      case QTYPE.A:
      case QTYPE.AAAA: {
        const family = qtype === QTYPE.A ? 'A' : 'AAAA';
        for (const ip of new Set(node.addrs)) {
          const rr = addressRR(owner, ip, this.ttl);
          if (rr.type === family) answers.push(rr);
        }
        break;
      }
      case QTYPE.SRV:
        this.srvRecords(owner, node, answers, additional);
        break;
      case QTYPE.TXT:
        if (node.txt) answers.push({ name: owner, type: 'TXT', ttl: this.ttl, class: 'IN', data: node.txt });
        break;
      case QTYPE.SOA:
        if (isApex) answers.push(this.soa(zoneAsked));
        break;
      case QTYPE.NS:
        if (isApex) {
          answers.push({ name: zoneAsked, type: 'NS', ttl: this.ttl, class: 'IN', data: `ns.dns.${this.zone}` });
          for (const ip of this.nameservers) additional.push(addressRR(`ns.dns.${this.zone}`, ip, this.ttl));
        }
        break;
      default:
        break;
    }
    if (answers.length === 0) return this.reply('NOERROR', [], [this.soa(zoneAsked)], true);
    return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additional, inZone: true };
  }

  /** SRV answers with CoreDNS's weights (100 split evenly over the address/port pairs) and target addresses as glue. */
  private srvRecords(owner: string, node: Node, answers: RR[], additional: RR[]): void {
    const n = node.srv.length;
    if (n === 0) return;
    const weight = Math.max(1, Math.floor(100 / n));
    const seenSrv = new Set<string>();
    const seenAddr = new Set<string>();
    for (const e of node.srv) {
      const sk = `${e.target}|${e.port}`;
      if (!seenSrv.has(sk)) {
        seenSrv.add(sk);
        const data: SrvData = { priority: 0, weight, port: e.port, target: e.target };
        answers.push({ name: owner, type: 'SRV', ttl: this.ttl, class: 'IN', data });
      }
      const ak = `${e.target}|${e.addr}`;
      if (!seenAddr.has(ak)) {
        seenAddr.add(ak);
        additional.push(addressRR(e.target, e.addr, this.ttl));
      }
    }
  }

  /** What exists at a lower-case in-zone name. */
  private lookup(lower: string): Node {
    if (lower === this.zone) return EMPTY;
    const rel = lower.slice(0, -(this.zone.length + 1)).split('.').reverse();
    if (rel.some((l) => l === '')) return NX;
    const [top, ns, name, fourth, fifth, ...more] = rel;
    if (top === 'dns-version') return rel.length === 1 ? { ...EMPTY, txt: ['1.1.0'] } : NX;
    if (top === 'dns') {
      if (rel.length === 1) return EMPTY;
      if (rel.length === 2 && ns === 'ns') return { ...EMPTY, addrs: this.nameservers };
      return NX;
    }
    if (top === 'pod') return this.lookupPod(rel.slice(1));
    if (top !== 'svc') return NX;
    if (ns === undefined) return EMPTY;
    if (!this.namespaceExists(ns)) return NX;
    if (name === undefined) return EMPTY;
    const svc = this.services.get(key(ns, name));
    if (!svc || more.length > 0) return NX;
    const fqdn = `${name}.${ns}.svc.${this.zone}`;
    if (svc.kind === 'ExternalName') return fourth === undefined && svc.externalName ? { ...EMPTY, cname: svc.externalName } : fourth === undefined ? EMPTY : NX;
    if (fourth === undefined) return this.serviceNode(ns, name, svc, fqdn, null);
    if (fifth === undefined) {
      // One more label: "_proto" is an empty non-terminal above "_port._proto"; anything else is an endpoint name.
      if (fourth.startsWith('_')) return this.serviceNode(ns, name, svc, fqdn, { protocol: fourth.slice(1) }).exists ? EMPTY : NX;
      return this.endpointNode(ns, name, svc, fourth, fqdn);
    }
    if (!fourth.startsWith('_') || !fifth.startsWith('_')) return NX;
    return this.serviceNode(ns, name, svc, fqdn, { protocol: fourth.slice(1), port: fifth.slice(1) });
  }

  private lookupPod(rel: string[]): Node {
    if (this.podRecords === 'disabled') return rel.length === 0 ? EMPTY : NX;
    const [ns, label, ...more] = rel;
    if (ns === undefined) return EMPTY;
    if (!this.namespaceExists(ns)) return NX;
    if (label === undefined) return EMPTY;
    const ip = more.length === 0 ? ipFromDashed(label) : null;
    return ip ? { ...EMPTY, addrs: [ip] } : NX;
  }

  /** The service name itself (filter null) or one of its SRV names / _proto ENTs. */
  private serviceNode(ns: string, name: string, svc: ServiceEntry, fqdn: string, filter: { protocol: string; port?: string } | null): Node {
    const match = (p: PortEntry): boolean => filter === null || (p.protocol === filter.protocol && (filter.port === undefined ? p.name !== '' : p.name === filter.port && p.name !== ''));
    if (svc.kind === 'ClusterIP') {
      const ports = svc.ports.filter(match);
      if (filter !== null && ports.length === 0) return NX;
      const srv = ports.flatMap((p) => svc.ips.map((addr) => ({ port: p.port, target: fqdn, addr })));
      return { exists: true, addrs: svc.ips, srv };
    }
    const addrs: string[] = [];
    const srv: Node['srv'] = [];
    let any = false;
    for (const { ep, ports } of this.endpointsOf(ns, name, svc)) {
      const matched = ports.filter(match);
      if (filter !== null && matched.length === 0) continue;
      any = true;
      addrs.push(ep.ip);
      for (const p of matched) srv.push({ port: p.port, target: `${labelOf(ep)}.${fqdn}`, addr: ep.ip });
    }
    // As CoreDNS: a headless name with no (matching) ready endpoint does not exist.
    return any ? { exists: true, addrs, srv } : NX;
  }

  /** label.svc.ns.svc.<zone>: a named (hostname) or dashed-IP endpoint of the service. */
  private endpointNode(ns: string, name: string, svc: ServiceEntry, label: string, fqdn: string): Node {
    const addrs: string[] = [];
    const srv: Node['srv'] = [];
    const target = `${label}.${fqdn}`;
    for (const { ep, ports } of this.endpointsOf(ns, name, svc)) {
      if (labelOf(ep) !== label) continue;
      addrs.push(ep.ip);
      for (const p of ports) srv.push({ port: p.port, target, addr: ep.ip });
    }
    return addrs.length ? { exists: true, addrs, srv } : NX;
  }

  /** The service's endpoints that DNS publishes: ready ones, or all with publishNotReadyAddresses. */
  private *endpointsOf(ns: string, name: string, svc: ServiceEntry): Generator<{ ep: EndpointEntry; ports: PortEntry[] }> {
    const set = this.slicesByService.get(key(ns, name));
    if (!set) return;
    for (const sk of set) {
      const slice = this.slices.get(sk);
      if (!slice) continue;
      for (const ep of slice.endpoints) {
        if (ep.ready || svc.publishNotReady) yield { ep, ports: slice.ports };
      }
    }
  }

  private reverseIndex(): Map<string, string[]> {
    if (this.reverse) return this.reverse;
    const idx = new Map<string, string[]>();
    const add = (ip: string, name: string): void => {
      const list = idx.get(ip);
      if (!list) idx.set(ip, [name]);
      else if (!list.includes(name)) list.push(name);
    };
    for (const [k, svc] of this.services) {
      const [ns, name] = k.split('/') as [string, string];
      for (const ip of svc.ips) add(ip, `${name}.${ns}.svc.${this.zone}`);
    }
    // Spec 1.1.0: PTR for endpoints of headless services that have a hostname.
    for (const [k, svc] of this.services) {
      if (svc.kind !== 'Headless') continue;
      const [ns, name] = k.split('/') as [string, string];
      for (const { ep } of this.endpointsOf(ns, name, svc)) {
        if (ep.hostname !== undefined) add(ep.ip, `${ep.hostname}.${name}.${ns}.svc.${this.zone}`);
      }
    }
    this.reverse = idx;
    return idx;
  }

  private soa(zoneAsked: string): RR {
    return {
      name: zoneAsked,
      type: 'SOA',
      ttl: Math.min(300, this.ttl),
      class: 'IN',
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: this.serialValue,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }

  private reply(rcode: Answer['rcode'], answers: RR[], authority: RR[], inZone: boolean): Answer {
    return { rcode, authoritative: inZone && rcode !== 'REFUSED', answers, authority, additional: [], inZone };
  }

  private namespaceExists(ns: string): boolean {
    return this.namespaces.has(ns) || (this.nsRefs.get(ns) ?? 0) > 0;
  }

  private ref(ns: string, d: number): void {
    const n = (this.nsRefs.get(ns) ?? 0) + d;
    if (n > 0) this.nsRefs.set(ns, n);
    else this.nsRefs.delete(ns);
  }

  private unindexSlice(k: string, old: SliceEntry): void {
    if (!old.service) return;
    const sk = key(old.namespace, old.service);
    const set = this.slicesByService.get(sk);
    set?.delete(k);
    if (set && set.size === 0) this.slicesByService.delete(sk);
  }

  private ips(list: string[]): string[] {
    const out: string[] = [];
    for (const s of list) {
      const ip = canonicalIP(s);
      if (ip && !out.includes(ip)) out.push(ip);
    }
    return out;
  }

  private touch(): void {
    this.reverse = null;
    this.serialValue = Math.max(this.serialValue + 1, Math.floor(Date.now() / 1000)) >>> 0;
    for (const fn of this.serialListeners) fn(this.serialValue);
  }
}
