// The one CIDR computation the apiserver needs: a range's first usable address (the `kubernetes` Service IP).
import { isIPv4, isIPv6 } from 'node:net';

function v6ToBigInt(ip: string): bigint {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function bigIntToV6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // compress the longest run of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** "127.96.0.0/12" → "127.96.0.1"; "fd00::/108" → "fd00::1". Throws on malformed input. */
export function firstAddress(cidr: string): string {
  const [ip, bitsText] = cidr.trim().split('/');
  const bits = Number(bitsText);
  if (!ip || !Number.isInteger(bits)) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
  if (isIPv4(ip)) {
    if (bits < 0 || bits > 32) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
    const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const first = ((n & mask) >>> 0) + 1;
    return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join('.');
  }
  if (isIPv6(ip)) {
    if (bits < 0 || bits > 128) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
    const n = v6ToBigInt(ip);
    const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
    return bigIntToV6((n & mask) + 1n);
  }
  throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
}
