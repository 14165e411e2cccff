// RepackSubsets (k8s.io/kubernetes/pkg/api/v1/endpoints): canonical Endpoints subsets.
// Addresses are grouped by the exact set of ports they offer; an address that is not
// ready on any port is not ready on all of them. The output order is deterministic.
// The output shares address and port objects with the input: clone first if it matters.
import type { EndpointAddress, EndpointPort, EndpointSubset } from '@knet/api';
import { canonicalJson } from './equal.js';

function addressKey(a: EndpointAddress): string {
  return `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;
}

function portKey(p: EndpointPort): string {
  // Only compared for equality; NUL cannot occur in names, protocols or numbers.
  return `${p.name ?? ''}\u0000${p.port}\u0000${p.protocol ?? ''}\u0000${p.appProtocol ?? ''}`;
}

export function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return compareIPs(a.ip, b.ip);
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/** Numeric order for IPv4, string order otherwise; stable across runs. */
function compareIPs(a: string, b: string): number {
  const na = ipv4Number(a);
  const nb = ipv4Number(b);
  if (na !== undefined && nb !== undefined) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Four dot-separated decimal numbers as one number (each may exceed 255: ordering only). */
function ipv4Number(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  return ((Number(m[1]) * 256 + Number(m[2])) * 256 + Number(m[3])) * 256 + Number(m[4]);
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  const ka = `${a.name ?? ''}\u0000${String(a.port).padStart(5, '0')}\u0000${a.protocol ?? ''}\u0000${a.appProtocol ?? ''}`;
  const kb = `${b.name ?? ''}\u0000${String(b.port).padStart(5, '0')}\u0000${b.protocol ?? ''}\u0000${b.appProtocol ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The compareAddresses order, parsing each IP once rather than per comparison. */
function sortAddresses(addrs: EndpointAddress[]): EndpointAddress[] {
  if (addrs.length < 2) return addrs;
  const keyed = addrs.map((a) => ({ a, n: ipv4Number(a.ip), uid: a.targetRef?.uid ?? '' }));
  keyed.sort((x, y) => {
    if (x.a.ip !== y.a.ip) {
      if (x.n !== undefined && y.n !== undefined) return x.n - y.n;
      return x.a.ip < y.a.ip ? -1 : 1;
    }
    return x.uid < y.uid ? -1 : x.uid > y.uid ? 1 : 0;
  });
  return keyed.map((k) => k.a);
}

/** Sorts addresses and ports inside each subset, then the subsets themselves. */
export function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  for (const s of subsets) {
    if (s.addresses) s.addresses = sortAddresses(s.addresses);
    if (s.notReadyAddresses) s.notReadyAddresses = sortAddresses(s.notReadyAddresses);
    s.ports?.sort(comparePorts);
  }
  if (subsets.length < 2) return subsets;
  // Each subset's key once, not once per comparison.
  const keyed = subsets.map((s) => ({ s, k: canonicalJson([s.ports ?? [], s.addresses ?? [], s.notReadyAddresses ?? []]) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) subsets[i] = keyed[i].s;
  return subsets;
}

export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const packer = new SubsetPacker();
  for (const s of subsets) {
    const ports: (EndpointPort | undefined)[] = s.ports && s.ports.length > 0 ? s.ports : [undefined];
    for (const p of ports) {
      for (const a of s.addresses ?? []) packer.add(a, p, true);
      for (const a of s.notReadyAddresses ?? []) packer.add(a, p, false);
    }
  }
  return packer.subsets();
}

/**
 * repackSubsets fed one (address, port, ready) at a time: the Endpoints controller adds each Pod's
 * address per port here rather than building a one-address subset for each first.
 */
export class SubsetPacker {
  private readonly allAddrs = new Map<string, EndpointAddress>();
  // port key → (port, address key → ready)
  private readonly byPort = new Map<string, { port: EndpointPort | undefined; addrs: Map<string, boolean> }>();

  /** `port` undefined: an address without ports (a headless Service without ports). */
  add(addr: EndpointAddress, port: EndpointPort | undefined, ready: boolean): void {
    const ak = addressKey(addr);
    if (!this.allAddrs.has(ak)) this.allAddrs.set(ak, addr);
    const pk = port ? portKey(port) : '<none>';
    let entry = this.byPort.get(pk);
    if (!entry) {
      entry = { port, addrs: new Map() };
      this.byPort.set(pk, entry);
    }
    // Not ready trumps ready.
    const was = entry.addrs.get(ak);
    if (was === undefined || was) entry.addrs.set(ak, ready);
  }

  /** The canonical subsets of everything added. */
  subsets(): EndpointSubset[] {
    // Group ports by identical (address, ready) sets; with one port there is one group.
    const groups = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
    for (const { port, addrs } of this.byPort.values()) {
      const setKey = this.byPort.size === 1 ? '' : [...addrs.entries()].map(([k, r]) => `${k}=${r}`).sort().join('\n');
      let g = groups.get(setKey);
      if (!g) {
        g = { addrs, ports: [] };
        groups.set(setKey, g);
      }
      if (port) g.ports.push(port);
    }

    const out: EndpointSubset[] = [];
    for (const g of groups.values()) {
      const ready: EndpointAddress[] = [];
      const notReady: EndpointAddress[] = [];
      // forEach: for-of over a Map's entries makes a [key, value] array per address.
      g.addrs.forEach((r, k) => (r ? ready : notReady).push(this.allAddrs.get(k)!));
      const subset: EndpointSubset = {};
      if (ready.length > 0) subset.addresses = ready;
      if (notReady.length > 0) subset.notReadyAddresses = notReady;
      if (g.ports.length > 0) subset.ports = g.ports;
      out.push(subset);
    }
    return sortSubsets(out);
  }
}
