// Pod validation limited to what service networking relies on: containers with names and
// ports, probes' ports, policies, hostname/subdomain, node name and pod/host IPs
// (the matching parts of ValidatePodCreate in pkg/apis/core/validation).
import type { Container, Pod, PodIP, Probe } from '../core.js';
import { duplicate, forbidden, invalid, notSupported, required, type FieldError } from '../field-errors.js';
import { validateIP } from './ip.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { ipFamilyOf, isDNS1123Label, isValidPortName, isValidPortNum, nameIsDNSSubdomain } from './names.js';
import { SupportedProtocols, validatePortNumOrName } from './service.js';

const restartPolicies = ['Always', 'Never', 'OnFailure'];
const dnsPolicies = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];

export function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain);
  const spec = pod.spec ?? ({} as Pod['spec']);
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) errs.push(required('spec.containers'));
  const names = new Set<string>();
  containers.forEach((c, i) => errs.push(...validateContainer(c ?? ({} as Container), `spec.containers[${i}]`, names)));

  if (!spec.restartPolicy) errs.push(required('spec.restartPolicy'));
  else if (!restartPolicies.includes(spec.restartPolicy)) errs.push(notSupported('spec.restartPolicy', spec.restartPolicy, restartPolicies));
  if (!spec.dnsPolicy) errs.push(required('spec.dnsPolicy'));
  else if (!dnsPolicies.includes(spec.dnsPolicy)) errs.push(notSupported('spec.dnsPolicy', spec.dnsPolicy, dnsPolicies));
  if (spec.hostname) errs.push(...isDNS1123Label(spec.hostname).map((m) => invalid('spec.hostname', spec.hostname, m)));
  if (spec.subdomain) errs.push(...isDNS1123Label(spec.subdomain).map((m) => invalid('spec.subdomain', spec.subdomain, m)));
  if (spec.nodeName) errs.push(...nameIsDNSSubdomain(spec.nodeName, false).map((m) => invalid('spec.nodeName', spec.nodeName, m)));
  if (spec.terminationGracePeriodSeconds != null && spec.terminationGracePeriodSeconds < 0) {
    errs.push(invalid('spec.terminationGracePeriodSeconds', spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  errs.push(...validatePodIPList(pod.status?.podIPs, 'status.podIPs'));
  errs.push(...validatePodIPList(pod.status?.hostIPs, 'status.hostIPs'));
  return errs;
}

function validateContainer(c: Container, path: string, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(`${path}.name`));
  else {
    errs.push(...isDNS1123Label(c.name).map((m) => invalid(`${path}.name`, c.name, m)));
    if (names.has(c.name)) errs.push(duplicate(`${path}.name`, c.name));
    else names.add(c.name);
  }
  const portNames = new Set<string>();
  (Array.isArray(c.ports) ? c.ports : []).forEach((port, i) => {
    const p = `${path}.ports[${i}]`;
    if (port?.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) errs.push(...msgs.map((m) => invalid(`${p}.name`, port.name, m)));
      else if (portNames.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      else portNames.add(port.name);
    }
    if (!port?.containerPort) errs.push(required(`${p}.containerPort`));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(invalid(`${p}.containerPort`, port.containerPort, m));
    if (port?.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(invalid(`${p}.hostPort`, port.hostPort, m));
    if (!port?.protocol) errs.push(required(`${p}.protocol`));
    else if (!SupportedProtocols.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, SupportedProtocols));
  });
  if (c.readinessProbe != null) errs.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`));
  return errs;
}

function validateProbe(probe: Probe, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const handlers = [probe.httpGet, probe.tcpSocket, probe.exec].filter((h) => h != null).length;
  if (handlers === 0) errs.push(required(path, 'must specify a handler type'));
  if (handlers > 1) errs.push(forbidden(path, 'may not specify more than 1 handler type'));
  if (probe.httpGet) errs.push(...validatePortNumOrName(probe.httpGet.port, `${path}.httpGet.port`));
  if (probe.tcpSocket) errs.push(...validatePortNumOrName(probe.tcpSocket.port, `${path}.tcpSocket.port`));
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = probe[f];
    if (v != null && v < 0) errs.push(invalid(`${path}.${f}`, v, 'must be greater than or equal to 0'));
  }
  return errs;
}

function validatePodIPList(ips: PodIP[] | undefined, path: string): FieldError[] {
  const list = Array.isArray(ips) ? ips : [];
  const errs: FieldError[] = [];
  list.forEach((p, i) => errs.push(...validateIP(`${path}[${i}].ip`, typeof p?.ip === 'string' ? p.ip : '')));
  if (errs.length || list.length <= 1) return errs;
  const fams = list.map((p) => ipFamilyOf(p.ip));
  if (list.length > 2 || fams[0] === fams[1]) errs.push(invalid(path, list, 'may specify no more than one IP for each IP family'));
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.ip)) errs.push(duplicate(`${path}[${i}]`, p));
    seen.add(p.ip);
  });
  return errs;
}

/** Pod spec is immutable on update except container images (as in Kubernetes). */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata ?? {}, old.metadata ?? {});
  errs.push(...validatePod(pod));
  const strip = (p: Pod): unknown => ({
    ...p.spec,
    containers: (p.spec?.containers ?? []).map((c) => ({ ...c, image: undefined })),
  });
  if (JSON.stringify(strip(pod)) !== JSON.stringify(strip(old))) {
    errs.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
  }
  return errs;
}

export function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata ?? {}, old.metadata ?? {});
  if ((pod.spec?.nodeName ?? '') !== (old.spec?.nodeName ?? '')) errs.push(forbidden('status.nodeName', 'may not be changed directly'));
  errs.push(...validatePodIPList(pod.status?.podIPs, 'status.podIPs'));
  errs.push(...validatePodIPList(pod.status?.hostIPs, 'status.hostIPs'));
  return errs;
}
