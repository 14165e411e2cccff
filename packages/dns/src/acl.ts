// Which clients may use the forwarder: a list of CIDRs (or single addresses).
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseIPv4, parseIPv6 } from './ip.js';

export class InvalidCidrError extends Error {
  readonly reason = 'Invalid';
  constructor(cidr: string) {
    super(`invalid CIDR in allowFrom: ${JSON.stringify(cidr)} (want e.g. 127.0.0.0/8 or ::1/128)`);
    this.name = 'InvalidCidrError';
  }
}

/** Distinct client addresses remembered; a pod network has few, and the memo starts over when full. */
const MEMO_MAX = 4096;

/** The octets of one CIDR as the native UDP path reads them: family (4|6), prefix length, 16 address octets. */
const RECORD = 18;

export class ClientAcl {
  private readonly list = new BlockList();
  /** The same CIDRs for the native UDP path, which checks the sources of the queries it answers itself. */
  readonly records: Uint8Array;
  private empty = true;
  // BlockList.check builds a SocketAddress per call: too dear for every query from the same few pods.
  private readonly memo = new Map<string, boolean>();

  constructor(cidrs: string[]) {
    this.records = new Uint8Array(cidrs.length * RECORD);
    for (const [i, c] of cidrs.entries()) {
      const [addr = '', prefixText, ...rest] = c.trim().split('/');
      const family = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
      const max = family === 'ipv4' ? 32 : 128;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!family || rest.length > 0 || !(prefix >= 0 && prefix <= max)) throw new InvalidCidrError(c);
      this.list.addSubnet(addr, prefix, family);
      const at = i * RECORD;
      const octets = family === 'ipv4' ? parseIPv4(addr) : parseIPv6(addr)?.flatMap((g) => [g >> 8, g & 0xff]);
      // A scoped address (fe80::1%eth0) has no octets here: family 0 never matches in C.
      this.records[at] = !octets ? 0 : family === 'ipv4' ? 4 : 6;
      this.records[at + 1] = prefix;
      if (octets) this.records.set(octets, at + 2);
      this.empty = false;
    }
  }

  allows(address: string): boolean {
    if (this.empty) return false;
    const known = this.memo.get(address);
    if (known !== undefined) return known;
    const ok = this.check(address);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(address, ok);
    return ok;
  }

  private check(address: string): boolean {
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
    const a = address.toLowerCase().startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (isIPv4(a)) return this.list.check(a, 'ipv4');
    if (isIPv6(a)) return this.list.check(a, 'ipv6');
    return false;
  }
}
