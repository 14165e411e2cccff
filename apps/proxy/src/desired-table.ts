// The sync computation (kube-proxy's "desired state"): a pure function from the informer caches to the
// data plane's table of (address, port, protocol) → backends. Applying it is the only side effect, elsewhere.
import { isHeadlessService, type EndpointSlice, type EndpointSlicePort, type Service, type ServicePort } from '@knet/api';
import type { Backend, ServiceEntry } from '@knet/dataplane';
import { ipFamily } from './addresses.js';

/** Service annotation: send a PROXY protocol header (haproxy proxy-protocol.txt) to the backends. */
export const ProxyProtocolAnnotation = 'knet.dev/proxy-protocol';

/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds. */
export const DefaultAffinityTimeoutSeconds = 10_800;

export type EntryKind = 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';

export interface NodeView {
  /** This node's name: endpoints with this nodeName are local. */
  name: string;
  /** Addresses NodePorts listen on (already resolved from --nodeport-addresses). */
  nodePortAddresses: string[];
}

/** Something the table leaves out on purpose, for the log (one per service port and reason). */
export interface Skipped {
  service: string;
  reason: string;
}

export interface DesiredTable {
  /** Sorted by key; no two entries share (address, port, protocol). */
  entries: ServiceEntry[];
  skipped: Skipped[];
}

/** 'ns/name' of a Service or of the Service an EndpointSlice belongs to. */
export const serviceKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

/** The stable id of one listener, e.g. 'default/web:http/TCP@127.96.0.5:80'. */
export function entryKey(service: string, port: ServicePort, protocol: string, address: string, listenPort: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${service}:${port.name || port.port}/${protocol}@${host}:${listenPort}`;
}

/**
 * The table for this node. `slicesByService` maps 'ns/name' to the Service's EndpointSlices
 * (label kubernetes.io/service-name). Output is deterministic: entries sorted by key, backends by
 * address and port, whatever order the caches listed things in.
 */
export function desiredTable(
  services: readonly Service[],
  slicesByService: ReadonlyMap<string, readonly EndpointSlice[]>,
  node: NodeView,
): DesiredTable {
  const parts: DesiredTable[] = [];
  for (const svc of services) {
    parts.push(serviceEntries(svc, slicesByService.get(serviceKey(svc.metadata.namespace, svc.metadata.name ?? '')) ?? [], node));
  }
  const table = assemble(parts);
  table.skipped.sort((a, b) => cmp(a.service, b.service) || cmp(a.reason, b.reason));
  return table;
}

/**
 * Joins per-Service results into one table with one owner per (address, port, protocol): the smallest key
 * wins, the others are reported. `sorted: false` keeps the parts' order (a sync does not need a canonical
 * order, and sorting 10,000 keys on every change costs more than the rest of it).
 */
export function assemble(parts: Iterable<DesiredTable>, opts: { sorted?: boolean } = {}): DesiredTable {
  const skipped: Skipped[] = [];
  const owner = new Map<string, ServiceEntry>();
  for (const p of parts) {
    for (const s of p.skipped) skipped.push(s);
    for (const e of p.entries) {
      const at = `${e.protocol} ${e.address} ${e.port}`;
      const cur = owner.get(at);
      if (cur === undefined) {
        owner.set(at, e);
        continue;
      }
      const [win, lose] = e.key < cur.key ? [e, cur] : [cur, e];
      owner.set(at, win);
      skipped.push({ service: lose.key.slice(0, lose.key.indexOf(':')), reason: `${lose.protocol} ${lose.address}:${lose.port} is already served for ${win.key}; ${lose.key} is not served` });
    }
  }
  const entries = [...owner.values()];
  if (opts.sorted !== false) entries.sort((a, b) => cmp(a.key, b.key));
  return { entries, skipped };
}

/** The entries of one Service (unsorted, not deduplicated against others): the unit a change tracker caches. */
export function serviceEntries(svc: Service, slices: readonly EndpointSlice[], node: NodeView): DesiredTable {
  const entries: ServiceEntry[] = [];
  const skipped: Skipped[] = [];
  const name = svc.metadata.name ?? '';
  const key = serviceKey(svc.metadata.namespace, name);
  const spec = svc.spec;
  if (!spec || spec.type === 'ExternalName') return { entries, skipped };
  const affinity =
    spec.sessionAffinity === 'ClientIP'
      ? { type: 'ClientIP' as const, timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DefaultAffinityTimeoutSeconds }
      : undefined;
  const proxy = proxyProtocolOf(svc);
  if (proxy.problem) skipped.push({ service: key, reason: proxy.problem });
  const clusterIPs = isHeadlessService(svc) ? [] : (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
  const lbIPs =
    spec.type === 'LoadBalancer'
      ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip && i.ipMode !== 'Proxy').map((i) => i.ip!)
      : [];
  const externalLocal = spec.externalTrafficPolicy === 'Local';
  const internalLocal = spec.internalTrafficPolicy === 'Local';

  for (const port of spec.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      skipped.push({ service: key, reason: `port ${port.name || port.port}: protocol ${protocol} is not supported by the userspace data plane; skipped` });
      continue;
    }
    const proxyProtocol = proxy.version === 'v1' && protocol === 'UDP' ? undefined : proxy.version;
    if (proxy.version === 'v1' && protocol === 'UDP') {
      skipped.push({ service: key, reason: `port ${port.name || port.port}: PROXY protocol v1 has no UDP form; UDP is proxied without a header (use v2)` });
    }
    const byFamily = new Map<4 | 6, Backend[]>();
    const backends = (family: 4 | 6, localOnly: boolean): Backend[] => {
      let all = byFamily.get(family);
      if (all === undefined) byFamily.set(family, (all = backendsFor(slices, port, protocol, family, node.name)));
      return localOnly ? all.filter((b) => b.nodeLocal) : all;
    };
    const add = (kind: EntryKind, address: string, listenPort: number, localOnly: boolean): void => {
      const family = ipFamily(address);
      if (family === undefined) {
        skipped.push({ service: key, reason: `${kind} address ${JSON.stringify(address)} is not an IP address; skipped` });
        return;
      }
      entries.push({
        key: entryKey(key, port, protocol, address, listenPort),
        address,
        port: listenPort,
        protocol,
        backends: backends(family, localOnly),
        ...(affinity ? { affinity } : {}),
        ...(proxyProtocol ? { proxyProtocol } : {}),
        labels: { namespace: svc.metadata.namespace ?? '', service: name, port: port.name || String(port.port), kind },
      });
    };
    for (const ip of clusterIPs) add('ClusterIP', ip, port.port, internalLocal);
    if (port.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
      for (const ip of node.nodePortAddresses) add('NodePort', ip, port.nodePort, externalLocal);
    }
    for (const ip of spec.externalIPs ?? []) add('ExternalIP', ip, port.port, externalLocal);
    for (const ip of lbIPs) add('LoadBalancer', ip, port.port, externalLocal);
  }
  return { entries, skipped };
}

/**
 * Backends of one service port from its slices, for one address family: the slice port with the same
 * name and protocol, each endpoint's first address (as kube-proxy uses), conditions defaulted as the
 * discovery/v1 API says. An address in several slices appears once, ready preferred.
 */
export function backendsFor(
  slices: readonly EndpointSlice[],
  port: ServicePort,
  protocol: 'TCP' | 'UDP',
  family: 4 | 6,
  nodeName: string,
): Backend[] {
  const wantType = family === 4 ? 'IPv4' : 'IPv6';
  const portName = port.name ?? '';
  const out: Backend[] = [];
  // Duplicates are found by a scan while the list is short, by a Map past that: no key string per endpoint
  // for the few endpoints most Services have (a cold start computes every Service at once).
  let index: Map<string, number> | undefined;
  const ordered = slices.length < 2 ? slices : [...slices].sort((a, b) => cmp(a.metadata.name ?? '', b.metadata.name ?? ''));
  for (const slice of ordered) {
    if (slice.addressType !== wantType) continue;
    let sp: EndpointSlicePort | undefined;
    for (const p of slice.ports ?? []) {
      if ((p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol) {
        sp = p;
        break;
      }
    }
    if (!sp || typeof sp.port !== 'number' || sp.port < 1 || sp.port > 65535) continue;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (!address || ipFamily(address) !== family) continue;
      const ready = ep.conditions?.ready ?? true; // nil: unknown, read as ready
      const b: Backend = {
        address,
        port: sp.port,
        ready,
        serving: ep.conditions?.serving ?? ready, // nil: defer to ready
        terminating: ep.conditions?.terminating ?? false,
        nodeLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
      };
      let at = -1;
      if (index !== undefined) at = index.get(`${address} ${sp.port}`) ?? -1;
      else for (let i = 0; i < out.length; i++) if (out[i]!.address === address && out[i]!.port === sp.port) at = i;
      if (at < 0) {
        out.push(b);
        if (index !== undefined) index.set(`${address} ${sp.port}`, out.length - 1);
        else if (out.length > 16) index = new Map(out.map((x, i) => [`${x.address} ${x.port}`, i]));
      } else if (!out[at]!.ready && b.ready) out[at] = b; // an address in several slices: ready preferred
    }
  }
  return out.sort((a, b) => cmp(a.address, b.address) || a.port - b.port);
}

function proxyProtocolOf(svc: Service): { version?: 'v1' | 'v2'; problem?: string } {
  const v = svc.metadata.annotations?.[ProxyProtocolAnnotation];
  if (v === undefined || v === '') return {};
  if (v === 'v1' || v === 'v2') return { version: v };
  return { problem: `annotation ${ProxyProtocolAnnotation}: ${JSON.stringify(v)} is not "v1" or "v2"; no PROXY header is sent` };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
