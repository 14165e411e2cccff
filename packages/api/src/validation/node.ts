// Node validation (ValidateNode / ValidateNodeUpdate in pkg/apis/core/validation).
import type { Node } from '../core.js';
import { duplicate, forbidden, invalid, type FieldError } from '../field-errors.js';
import { cidrFamily, validateCIDR } from './ip.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { nameIsDNSSubdomain } from './names.js';

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  const cidrs = Array.isArray(node.spec?.podCIDRs) ? node.spec!.podCIDRs! : [];
  if (cidrs.length > 0) {
    const before = errs.length;
    cidrs.forEach((c, i) => errs.push(...validateCIDR(`spec.podCIDRs[${i}]`, c)));
    if (cidrs.length > 1 && errs.length === before) {
      const dual = cidrs.length === 2 && cidrFamily(cidrs[0]!) !== cidrFamily(cidrs[1]!);
      if (!dual) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
      const seen = new Set<string>();
      cidrs.forEach((c, i) => {
        if (seen.has(c)) errs.push(duplicate(`spec.podCIDRs[${i}]`, c));
        seen.add(c);
      });
    }
  }
  return errs;
}

export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateObjectMetaUpdate(node.metadata ?? {}, old.metadata ?? {});
  const seen = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const k = `${a.type}/${a.address}`;
    if (seen.has(k)) errs.push(duplicate(`status.addresses[${i}]`, a));
    seen.add(k);
  });
  const oldCIDRs = old.spec?.podCIDRs ?? [];
  const newCIDRs = node.spec?.podCIDRs ?? [];
  if (oldCIDRs.length > 0) {
    const msg = 'node updates may not change podCIDR except from "" to valid';
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden('spec.podCIDRs', msg));
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(forbidden('spec.podCIDRs', msg)));
  }
  if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID) {
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  errs.push(...validateNode(node).filter((e) => !e.field.startsWith('metadata.')));
  return errs;
}
