// Endpoints validation (ValidateEndpoints in pkg/apis/core/validation).
import type { EndpointAddress, EndpointPort, Endpoints } from '../core.js';
import { invalid, notSupported, required, type FieldError } from '../field-errors.js';
import { validateIP, validateNonSpecialIP, type ValidationOptions } from './ip.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isQualifiedName, isValidPortNum, nameIsDNSSubdomain } from './names.js';
import { SupportedProtocols } from './service.js';

export function validateEndpoints(ep: Endpoints, opts: ValidationOptions = {}): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain);
  const subsets = Array.isArray(ep.subsets) ? ep.subsets : [];
  subsets.forEach((ss, i) => {
    const p = `subsets[${i}]`;
    const addrs = ss?.addresses ?? [];
    const notReady = ss?.notReadyAddresses ?? [];
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${p}.addresses[${j}]`, opts)));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${p}.notReadyAddresses[${j}]`, opts)));
    const ports = ss?.ports ?? [];
    ports.forEach((port, j) => errs.push(...validateEndpointPort(port, ports.length > 1, `${p}.ports[${j}]`)));
  });
  return errs;
}

export function validateEndpointsUpdate(ep: Endpoints, old: Endpoints, opts: ValidationOptions = {}): FieldError[] {
  return [...validateObjectMetaUpdate(ep.metadata ?? {}, old.metadata ?? {}), ...validateEndpoints(ep, opts)];
}

function validateEndpointAddress(a: EndpointAddress, path: string, opts: ValidationOptions): FieldError[] {
  const ip = typeof a?.ip === 'string' ? a.ip : '';
  const errs = validateIP(`${path}.ip`, ip);
  if (a?.hostname) errs.push(...isDNS1123Label(a.hostname).map((m) => invalid(`${path}.hostname`, a.hostname, m)));
  if (a?.nodeName != null) errs.push(...nameIsDNSSubdomain(a.nodeName, false).map((m) => invalid(`${path}.nodeName`, a.nodeName, m)));
  errs.push(...validateNonSpecialIP(`${path}.ip`, ip, opts));
  return errs;
}

function validateEndpointPort(port: EndpointPort, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !port?.name) errs.push(required(`${path}.name`));
  else if (port?.name) errs.push(...isDNS1123Label(port.name).map((m) => invalid(`${path}.name`, port.name, m)));
  for (const m of isValidPortNum(port?.port)) errs.push(invalid(`${path}.port`, port?.port ?? 0, m));
  if (!port?.protocol) errs.push(required(`${path}.protocol`));
  else if (!SupportedProtocols.includes(port.protocol)) errs.push(notSupported(`${path}.protocol`, port.protocol, SupportedProtocols));
  if (port?.appProtocol != null) errs.push(...isQualifiedName(port.appProtocol).map((m) => invalid(`${path}.appProtocol`, port.appProtocol, m)));
  return errs;
}
