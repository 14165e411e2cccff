// Which clients may use the forwarder: a list of CIDRs (or single addresses).
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export class InvalidCidrError extends Error {
  readonly reason = 'Invalid';
  constructor(cidr: string) {
    super(`invalid CIDR in allowFrom: ${JSON.stringify(cidr)} (want e.g. 127.0.0.0/8 or ::1/128)`);
    this.name = 'InvalidCidrError';
  }
}

/** Distinct client addresses remembered; a pod network has few, and the memo starts over when full. */
const MEMO_MAX = 4096;

export class ClientAcl {
  private readonly list = new BlockList();
  private empty = true;
  // BlockList.check builds a SocketAddress per call: too dear for every query from the same few pods.
  private readonly memo = new Map<string, boolean>();

  constructor(cidrs: string[]) {
    for (const c of cidrs) {
      const [addr = '', prefixText, ...rest] = c.trim().split('/');
      const family = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
      const max = family === 'ipv4' ? 32 : 128;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!family || rest.length > 0 || !(prefix >= 0 && prefix <= max)) throw new InvalidCidrError(c);
      this.list.addSubnet(addr, prefix, family);
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
