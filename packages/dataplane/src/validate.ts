import { ipFamily } from './ip.js';
import type { ServiceEntry } from './types.js';

const validPort = (p: unknown, min: number): boolean => typeof p === 'number' && Number.isInteger(p) && p >= min && p <= 65535;

/**
 * Problems with one entry, as messages; empty when it can be applied. Input may come
 * from untyped sources (JSON), so every field is checked at run time.
 */
export function validateEntry(e: ServiceEntry): string[] {
  const errs: string[] = [];
  if (typeof e !== 'object' || e === null) return ['entry must be an object'];
  if (typeof e.key !== 'string' || e.key === '') errs.push('key: must be a non-empty string');
  if (typeof e.address !== 'string' || ipFamily(e.address) === 0) {
    errs.push(`address: Invalid value: ${JSON.stringify(e.address)}: must be an IPv4 or IPv6 address`);
  }
  if (!validPort(e.port, 0)) errs.push(`port: Invalid value: ${JSON.stringify(e.port)}: must be an integer 0-65535`);
  if (e.protocol !== 'TCP' && e.protocol !== 'UDP') {
    errs.push(`protocol: Unsupported value: ${JSON.stringify(e.protocol)}: supported values: "TCP", "UDP"`);
  }
  if (!Array.isArray(e.backends)) errs.push('backends: must be an array');
  else {
    e.backends.forEach((b, i) => {
      if (typeof b !== 'object' || b === null) {
        errs.push(`backends[${i}]: must be an object`);
        return;
      }
      if (typeof b.address !== 'string' || ipFamily(b.address) === 0) {
        errs.push(`backends[${i}].address: Invalid value: ${JSON.stringify(b.address)}: must be an IPv4 or IPv6 address`);
      }
      if (!validPort(b.port, 1)) errs.push(`backends[${i}].port: Invalid value: ${JSON.stringify(b.port)}: must be an integer 1-65535`);
    });
  }
  if (e.affinity !== undefined) {
    if (e.affinity === null || e.affinity.type !== 'ClientIP') errs.push('affinity.type: Unsupported value: supported values: "ClientIP"');
    else {
      const t = e.affinity.timeoutSeconds;
      // Kubernetes: 0 < timeoutSeconds <= 86400.
      if (typeof t !== 'number' || !Number.isInteger(t) || t <= 0 || t > 86400) {
        errs.push(`affinity.timeoutSeconds: Invalid value: ${JSON.stringify(t)}: must be greater than 0 and less than or equal to 86400`);
      }
    }
  }
  if (e.proxyProtocol !== undefined && e.proxyProtocol !== 'v1' && e.proxyProtocol !== 'v2') {
    errs.push(`proxyProtocol: Unsupported value: ${JSON.stringify(e.proxyProtocol)}: supported values: "v1", "v2"`);
  }
  if (e.protocol === 'UDP' && e.proxyProtocol === 'v1') {
    errs.push('proxyProtocol: Invalid value: "v1": PROXY protocol v1 has no UDP form; use "v2"');
  }
  return errs;
}
