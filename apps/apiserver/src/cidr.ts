// The one CIDR computation the apiserver needs: a range's first usable address (the `kubernetes` Service IP).
import { formatIP, parseCIDR } from '@knet/ipam/cidr';

/** "127.96.0.0/12" → "127.96.0.1"; "fd00::/108" → "fd00::1". Throws on malformed input. */
export function firstAddress(cidr: string): string {
  const c = parseCIDR(cidr.trim());
  return formatIP({ family: c.family, value: c.network + 1n });
}
