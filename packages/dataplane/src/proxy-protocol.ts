import { ipFamily, unmapIPv4, writeIPv4, writeIPv6 } from './ip.js';

/** The PROXY protocol (haproxy proxy-protocol.txt): the original client and destination, sent to the backend first. */
export interface ProxyAddresses {
  sourceAddress: string | undefined;
  sourcePort: number | undefined;
  destinationAddress: string | undefined;
  destinationPort: number | undefined;
}

/** Both ends in one family: IPv4 if both are (after unmapping ::ffff:), else IPv6 with IPv4 mapped in. */
function sameFamily(a: ProxyAddresses): { family: 4 | 6; src: string; dst: string; sport: number; dport: number } | undefined {
  if (a.sourceAddress === undefined || a.destinationAddress === undefined) return undefined;
  if (a.sourcePort === undefined || a.destinationPort === undefined) return undefined;
  let src = unmapIPv4(a.sourceAddress);
  let dst = unmapIPv4(a.destinationAddress);
  const fs = ipFamily(src);
  const fd = ipFamily(dst);
  if (fs === 0 || fd === 0) return undefined;
  if (fs === 4 && fd === 4) return { family: 4, src, dst, sport: a.sourcePort, dport: a.destinationPort };
  if (fs === 4) src = `::ffff:${src}`;
  if (fd === 4) dst = `::ffff:${dst}`;
  return { family: 6, src, dst, sport: a.sourcePort, dport: a.destinationPort };
}

/** Version 1, human-readable: "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (TCP only). */
export function proxyHeaderV1(a: ProxyAddresses): Buffer {
  const s = sameFamily(a);
  if (s === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY TCP${s.family} ${s.src} ${s.dst} ${s.sport} ${s.dport}\r\n`, 'latin1');
}

export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Version 2, binary: signature, PROXY command, family/transport, addresses. */
export function proxyHeaderV2(a: ProxyAddresses, transport: 'TCP' | 'UDP'): Buffer {
  const s = sameFamily(a);
  if (s === undefined) {
    // AF_UNSPEC: the receiver must use the real connection addresses.
    const out = Buffer.alloc(16);
    PROXY_V2_SIGNATURE.copy(out, 0);
    out[12] = 0x21;
    out[13] = 0x00;
    out.writeUInt16BE(0, 14);
    return out;
  }
  const addrLen = s.family === 4 ? 12 : 36;
  const out = Buffer.alloc(16 + addrLen);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, command PROXY
  out[13] = (s.family === 4 ? 0x10 : 0x20) | (transport === 'TCP' ? 0x01 : 0x02);
  out.writeUInt16BE(addrLen, 14);
  if (s.family === 4) {
    writeIPv4(s.src, out, 16);
    writeIPv4(s.dst, out, 20);
    out.writeUInt16BE(s.sport, 24);
    out.writeUInt16BE(s.dport, 26);
  } else {
    writeIPv6(s.src, out, 16);
    writeIPv6(s.dst, out, 32);
    out.writeUInt16BE(s.sport, 48);
    out.writeUInt16BE(s.dport, 50);
  }
  return out;
}
