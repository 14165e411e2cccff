// IP and CIDR field checks (k8s.io/apimachinery/pkg/util/validation/ip.go and ValidateNonSpecialIP).
import { invalid, type FieldError } from '../field-errors.js';
import { ipFamilyOf, isValidCIDRString } from './names.js';

export interface ValidationOptions {
  /**
   * Kubernetes rejects loopback addresses for endpoints and externalIPs. knet runs
   * every address inside 127.0.0.0/8 in local mode, so loopback is allowed by default.
   */
  allowLoopback?: boolean;
}

export const defaultValidationOptions: Required<ValidationOptions> = { allowLoopback: true };

/** Kubernetes' message for a value that is not an IP, word for word (its examples included). */
export const INVALID_IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** Kubernetes' message for a value that is not a CIDR, word for word. */
export const INVALID_CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

export function validateIP(path: string, value: string): FieldError[] {
  return ipFamilyOf(value) ? [] : [invalid(path, value, INVALID_IP_MESSAGE)];
}

export function validateIPv4(path: string, value: string): FieldError[] {
  return ipFamilyOf(value) === 'IPv4' ? [] : [invalid(path, value, 'must be a valid IPv4 address')];
}

export function validateIPv6(path: string, value: string): FieldError[] {
  return ipFamilyOf(value) === 'IPv6' ? [] : [invalid(path, value, 'must be a valid IPv6 address')];
}

export function validateCIDR(path: string, value: string): FieldError[] {
  return isValidCIDRString(value) ? [] : [invalid(path, value, INVALID_CIDR_MESSAGE)];
}

/** Family of a CIDR string, or undefined when it is not one. */
export function cidrFamily(value: string): 'IPv4' | 'IPv6' | undefined {
  return isValidCIDRString(value) ? ipFamilyOf(value.slice(0, value.indexOf('/'))) : undefined;
}

export function validateNonSpecialIP(path: string, ip: string, opts: ValidationOptions = {}): FieldError[] {
  const o = { ...defaultValidationOptions, ...opts };
  const fam = ipFamilyOf(ip);
  if (!fam) return [invalid(path, ip, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const v4 = fam === 'IPv4' ? ip.split('.').map(Number) : undefined;
  const v6 = fam === 'IPv6' ? expandIPv6(ip) : undefined;
  const v4mapped = v6 && v6.slice(0, 5).every((x) => x === 0) && v6[5] === 0xffff ? [v6[6]! >> 8, v6[6]! & 255, v6[7]! >> 8, v6[7]! & 255] : undefined;
  const b = v4 ?? v4mapped;
  const unspecified = b ? b.every((x) => x === 0) : v6!.every((x) => x === 0);
  const loopback = b ? b[0] === 127 : v6!.slice(0, 7).every((x) => x === 0) && v6![7] === 1;
  const linkLocal = b ? b[0] === 169 && b[1] === 254 : (v6![0]! & 0xffc0) === 0xfe80;
  const linkLocalMulticast = b ? b[0] === 224 && b[1] === 0 && b[2] === 0 : (v6![0]! & 0xff0f) === 0xff02;
  if (unspecified) errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if (loopback && !o.allowLoopback) errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** Eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail is expanded). */
export function expandIPv6(ip: string): number[] {
  let s = ip;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const p = s.slice(lastColon + 1).split('.').map(Number);
    tail.push((p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!);
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const r = rest !== undefined ? (rest ? rest.split(':').map((x) => parseInt(x, 16)) : []) : [];
  let groups: number[];
  if (rest === undefined) groups = h;
  else groups = [...h, ...new Array(8 - h.length - r.length).fill(0), ...r];
  if (tail.length) groups = [...groups.slice(0, 6), ...tail];
  return groups;
}
