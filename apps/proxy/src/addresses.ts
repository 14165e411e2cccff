// IP helpers and --nodeport-addresses resolution (pure: the caller supplies the candidate addresses).
import { isIPv4, isIPv6 } from 'node:net';
import type { Node } from '@knet/api';

export function ipFamily(address: string): 4 | 6 | undefined {
  // One check instead of isIP's two: the sync computation calls this for every endpoint.
  if (address.includes(':')) return isIPv6(address) ? 6 : undefined;
  return isIPv4(address) ? 4 : undefined;
}

/** A parsed CIDR; an IP without a prefix is a /32 or /128. */
export interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
  text: string;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(ip);
  if (family === undefined) throw new TypeError(`${JSON.stringify(text)} is not an IP address or CIDR`);
  const width = family === 4 ? 32 : 128;
  const prefix = slash < 0 ? width : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1)))) {
    throw new TypeError(`${JSON.stringify(text)}: prefix length must be 0-${width}`);
  }
  return { family, bits: ipBits(ip), prefix, text };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const family = ipFamily(ip);
  if (family !== c.family) return false;
  const width = family === 4 ? 32n : 128n;
  const shift = width - BigInt(c.prefix);
  return ipBits(ip) >> shift === c.bits >> shift;
}

function ipBits(ip: string): bigint {
  if (ipFamily(ip) === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  // Expand '::' and an embedded IPv4 tail into eight 16-bit groups.
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipBits(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

/** The Node's InternalIP addresses (kube-proxy's "primary" node IPs). */
export function nodeInternalIPs(node: Node | undefined): string[] {
  return (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && ipFamily(a.address) !== undefined).map((a) => a.address);
}

/**
 * Where NodePorts listen. `flag` is --nodeport-addresses: empty or "primary" → the node's InternalIPs;
 * otherwise CIDRs (or bare IPs) selecting among `candidates` (the node's addresses and this host's
 * interface addresses). A bare IP is used as is even when no candidate has it: the user named it.
 */
export function resolveNodePortAddresses(flag: readonly string[], nodeIPs: readonly string[], candidates: readonly string[]): string[] {
  if (flag.length === 0 || (flag.length === 1 && flag[0] === 'primary')) return [...new Set(nodeIPs)].sort();
  const out = new Set<string>();
  for (const f of flag) {
    const c = parseCidr(f);
    if (!f.includes('/')) {
      out.add(f);
      continue;
    }
    for (const ip of [...nodeIPs, ...candidates]) if (cidrContains(c, ip)) out.add(ip);
  }
  return [...out].sort();
}
