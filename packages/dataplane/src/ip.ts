import { isIPv4, isIPv6 } from 'node:net';

/** 4 bytes of a dotted IPv4 address, written into `out` at `offset`. */
export function writeIPv4(address: string, out: Buffer, offset: number): void {
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) out[offset + i] = Number(parts[i]);
}

/** 16 bytes of an IPv6 address (with '::' and an optional dotted IPv4 tail), written into `out`. */
export function writeIPv6(address: string, out: Buffer, offset: number): void {
  let a = address;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const words: number[] = [];
  const parse = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const p of s.split(':')) {
      if (p.includes('.')) {
        const b = p.split('.').map(Number);
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else out.push(parseInt(p, 16));
    }
    return out;
  };
  const gap = a.indexOf('::');
  if (gap >= 0) {
    const head = parse(a.slice(0, gap));
    const tail = parse(a.slice(gap + 2));
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else words.push(...parse(a));
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i] ?? 0, offset + 2 * i);
}

/** '::ffff:1.2.3.4' (how a dual-stack socket reports an IPv4 peer) → '1.2.3.4'; anything else unchanged. */
export function unmapIPv4(address: string): string {
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && isIPv4(address.slice(7))) {
    return address.slice(7);
  }
  return address;
}

export function ipFamily(address: string): 4 | 6 | 0 {
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
}
