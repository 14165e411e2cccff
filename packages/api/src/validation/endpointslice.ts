// EndpointSlice validation (pkg/apis/discovery/validation).
import type { EndpointSlice } from '../discovery.js';
import { duplicate, invalid, notSupported, required, tooMany, type FieldError } from '../field-errors.js';
import { validateIPv4, validateIPv6, validateNonSpecialIP, type ValidationOptions } from './ip.js';
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain } from './names.js';
import { SupportedProtocols } from './service.js';

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];
const maxAddresses = 100;
const maxPorts = 20000;
const maxEndpoints = 1000;
const maxHints = 8;

export function validateEndpointSlice(slice: EndpointSlice, opts: ValidationOptions = {}): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, true, nameIsDNSSubdomain);
  if (!slice.addressType) errs.push(required('addressType'));
  else if (!addressTypes.includes(slice.addressType)) errs.push(notSupported('addressType', slice.addressType, addressTypes));

  const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  if (endpoints.length > maxEndpoints) {
    errs.push(tooMany('endpoints', endpoints.length, maxEndpoints));
  } else {
    endpoints.forEach((ep, i) => {
      const p = `endpoints[${i}]`;
      const ap = `${p}.addresses`;
      const addrs = Array.isArray(ep?.addresses) ? ep.addresses : [];
      if (addrs.length === 0) errs.push(required(ap, 'must contain at least 1 address'));
      else if (addrs.length > maxAddresses) errs.push(tooMany(ap, addrs.length, maxAddresses));
      addrs.forEach((a, j) => {
        const path = `${ap}[${j}]`;
        if (slice.addressType === 'IPv4') {
          const e = validateIPv4(path, a);
          errs.push(...(e.length ? e : validateNonSpecialIP(path, a, opts)));
        } else if (slice.addressType === 'IPv6') {
          const e = validateIPv6(path, a);
          errs.push(...(e.length ? e : validateNonSpecialIP(path, a, opts)));
        } else if (slice.addressType === 'FQDN') {
          errs.push(...validateFQDN(path, a));
        }
      });
      if (ep?.nodeName != null) errs.push(...nameIsDNSSubdomain(ep.nodeName, false).map((m) => invalid(`${p}.nodeName`, ep.nodeName, m)));
      if (ep?.hostname != null) errs.push(...isDNS1123Label(ep.hostname).map((m) => invalid(`${p}.hostname`, ep.hostname, m)));
      const zones = ep?.hints?.forZones ?? [];
      if (zones.length > maxHints) errs.push(tooMany(`${p}.hints.forZones`, zones.length, maxHints));
    });
  }

  const ports = Array.isArray(slice.ports) ? slice.ports : [];
  if (ports.length > maxPorts) {
    errs.push(tooMany('ports', ports.length, maxPorts));
  } else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = `ports[${i}]`;
      const name = port?.name ?? '';
      if (name.length > 0) errs.push(...isDNS1123Label(name).map((m) => invalid(`${p}.name`, name, m)));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      else names.add(name);
      if (port?.protocol == null) errs.push(required(`${p}.protocol`));
      else if (!SupportedProtocols.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, SupportedProtocols));
      if (port?.appProtocol != null) errs.push(...isQualifiedName(port.appProtocol).map((m) => invalid(`${p}.appProtocol`, port.appProtocol, m)));
    });
  }
  return errs;
}

export function validateEndpointSliceUpdate(slice: EndpointSlice, old: EndpointSlice, opts: ValidationOptions = {}): FieldError[] {
  return [
    ...validateObjectMetaUpdate(slice.metadata ?? {}, old.metadata ?? {}),
    ...validateEndpointSlice(slice, opts),
    ...validateImmutableField(slice.addressType, old.addressType, 'addressType'),
  ];
}

function validateFQDN(path: string, value: string): FieldError[] {
  if (!value) return [required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const sub = isDNS1123Subdomain(name);
  if (sub.length) return [invalid(path, name, sub.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length) return [invalid(path, l, e.join(','))];
  }
  return [];
}
