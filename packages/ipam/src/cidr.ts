// IPv4 / IPv6 addresses and CIDRs as bigints, so offsets work the same for both families.
import { isIPv4, isIPv6 } from 'node:net';

export type IPFamily = 'IPv4' | 'IPv6';

export interface IP {
  family: IPFamily;
  value: bigint;
}

export interface Cidr {
  family: IPFamily;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** Address bits of the family: 32 or 128. */
  bits: number;
  /** Number of addresses in the CIDR, network and broadcast included. */
  size: bigint;
}

export function familyBits(family: IPFamily): number {
  return family === 'IPv4' ? 32 : 128;
}

/** Parses an IP address; null when it is not one (no zones, no leading zeros in IPv4). */
export function parseIP(s: string): IP | null {
  if (typeof s !== 'string') return null;
  if (isIPv4(s)) return { family: 'IPv4', value: parseV4(s) };
  if (isIPv6(s) && !s.includes('%')) return { family: 'IPv6', value: parseV6(s) };
  return null;
}

function parseV4(s: string): bigint {
  let v = 0n;
  for (const part of s.split('.')) v = (v << 8n) | BigInt(Number(part));
  return v;
}

function parseV6(s: string): bigint {
  let text = s.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headParts = head === '' ? [] : head.split(':');
  const restParts = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headParts.length - restParts.length;
  const hextets = [...headParts, ...new Array<string>(zeros).fill('0'), ...restParts];
  let v = 0n;
  for (const h of hextets) v = (v << 16n) | BigInt(parseInt(h, 16));
  return v;
}

export function formatIP(ip: IP): string {
  return ip.family === 'IPv4' ? formatV4(ip.value) : formatV6(ip.value);
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero hextets as '::'. */
function formatV6(v: bigint): string {
  const h: number[] = [];
  for (let i = 7; i >= 0; i--) h.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (h[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(h);
  return `${hex(h.slice(0, bestStart))}::${hex(h.slice(bestStart + bestLen))}`;
}

/**
 * Parses 'a.b.c.d/n' or 'x::/n'. Host bits are cleared, as Kubernetes'
 * ParseCIDRSloppy does. Throws an Error that names the bad input.
 */
export function parseCIDR(s: string): Cidr {
  const slash = typeof s === 'string' ? s.indexOf('/') : -1;
  if (slash < 0) throw new Error(`invalid CIDR ${JSON.stringify(s)}: expected address/prefix, e.g. 127.96.0.0/12`);
  const ip = parseIP(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (ip === null) throw new Error(`invalid CIDR ${JSON.stringify(s)}: ${JSON.stringify(s.slice(0, slash))} is not an IP address`);
  const bits = familyBits(ip.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new Error(`invalid CIDR ${JSON.stringify(s)}: prefix length must be 0-${bits}`);
  }
  const prefix = Number(prefixText);
  const hostBits = BigInt(bits - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, network, prefix, bits, size: 1n << hostBits };
}

export function formatCIDR(c: Cidr): string {
  return `${formatIP({ family: c.family, value: c.network })}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: IP): boolean {
  return ip.family === c.family && ip.value >= c.network && ip.value < c.network + c.size;
}
