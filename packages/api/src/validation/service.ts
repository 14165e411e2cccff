// Service validation, following kube-apiserver's ValidateService / ValidateServiceUpdate
// (pkg/apis/core/validation/validation.go): same checks, order, field paths and messages.
import type { Service, ServicePort } from '../core.js';
import {
  RawValue,
  duplicate,
  forbidden,
  goQuote,
  invalid,
  notSupported,
  required,
  type FieldError,
} from '../field-errors.js';
import { ClusterIPNone, externallyAccessible, isHeadlessService, needsHealthCheck } from '../service-helpers.js';
import { validateCIDR, validateIP, validateNonSpecialIP, type ValidationOptions } from './ip.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { ipFamilyOf, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortName, isValidPortNum, nameIsDNS1035Label } from './names.js';

export const SupportedServiceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;
export const SupportedProtocols = ['SCTP', 'TCP', 'UDP'] as const;
const sessionAffinityTypes = ['ClientIP', 'None'];
const trafficPolicies = ['Cluster', 'Local'];
const ipFamilies = ['IPv4', 'IPv6'];
const ipFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const lbIPModes = ['Proxy', 'VIP'];
export const MaxClientIPServiceAffinitySeconds = 86400;

const AnnotationTopologyMode = 'service.kubernetes.io/topology-mode';
const DeprecatedAnnotationTopologyAwareHints = 'service.kubernetes.io/topology-aware-hints';
const AnnotationLoadBalancerSourceRanges = 'service.beta.kubernetes.io/load-balancer-source-ranges';

const has = (list: readonly string[], v: unknown): boolean => typeof v === 'string' && list.includes(v);

export function validateService(svc: Service, opts: ValidationOptions = {}): FieldError[] {
  const spec = svc.spec ?? {};
  const s: Service = { ...svc, spec };
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label, 'metadata');

  const ann = svc.metadata?.annotations ?? {};
  if (AnnotationTopologyMode in ann && DeprecatedAnnotationTopologyAwareHints in ann &&
      ann[AnnotationTopologyMode] !== ann[DeprecatedAnnotationTopologyAwareHints]) {
    errs.push(invalid(`metadata.annotations[${AnnotationTopologyMode}]`, ann[AnnotationTopologyMode],
      `must match annotations[${DeprecatedAnnotationTopologyAwareHints}] when both are specified`));
  }

  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = isHeadlessService(s);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports'));

  switch (spec.type) {
    case 'LoadBalancer':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', spec.clusterIPs![0], "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', spec.clusterIPs![0], "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs?.length ?? 0) > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if ((spec.ipFamilies?.length ?? 0) > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy != null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // The CNAME may end with a dot to mark it fully qualified.
      const cname = typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '') : '';
      if (cname.length > 0) errs.push(...isDNS1123Subdomain(cname).map((m) => invalid('spec.externalName', cname, m)));
      else errs.push(required('spec.externalName'));
      break;
    }
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p ?? ({} as ServicePort), ports.length > 1, names, `spec.ports[${i}]`)));

  if (spec.selector != null) errs.push(...validateLabels(spec.selector, 'spec.selector'));

  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!has(sessionAffinityTypes, spec.sessionAffinity)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, sessionAffinityTypes));
  if (spec.sessionAffinity === 'ClientIP') {
    errs.push(...validateClientIPAffinityConfig(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig'));
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  errs.push(...validateServiceClusterIPsRelatedFields(s));

  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = `spec.externalIPs[${i}]`;
    const ipErrs = validateIP(p, ip);
    errs.push(...(ipErrs.length ? ipErrs : validateNonSpecialIP(p, ip, opts)));
  });

  if (!spec.type) errs.push(required('spec.type'));
  else if (!has(SupportedServiceTypes, spec.type)) errs.push(notSupported('spec.type', spec.type, SupportedServiceTypes));

  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p?.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }

  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p?.nodePort) return;
    const k = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(k)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(k);
  });

  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${p?.protocol}/${p?.port}`;
    if (portKeys.has(k)) errs.push(duplicate(`spec.ports[${i}]`, goServicePortKey(p?.protocol, p?.port)));
    portKeys.add(k);
  });

  // Kubernetes reports this field with a capital L; kept for fidelity.
  if ((spec.loadBalancerSourceRanges?.length ?? 0) > 0) {
    const fp = 'spec.LoadBalancerSourceRanges';
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(fp, "may only be used when `type` is 'LoadBalancer'"));
    spec.loadBalancerSourceRanges!.forEach((v, i) => errs.push(...validateCIDR(`${fp}[${i}]`, String(v).trim())));
  } else if (AnnotationLoadBalancerSourceRanges in ann) {
    const fp = `metadata.annotations[${AnnotationLoadBalancerSourceRanges}]`;
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(fp, "may only be used when `type` is 'LoadBalancer'"));
    const val = String(ann[AnnotationLoadBalancerSourceRanges]).trim();
    if (val !== '') for (const c of val.split(',')) errs.push(...validateCIDR(fp, c.trim()));
  }

  if (spec.allocateLoadBalancerNodePorts != null && spec.type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  // Kubernetes reports this one without the `spec.` prefix; kept for fidelity.
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) errs.push(required('allocateLoadBalancerNodePorts'));

  errs.push(...validateLoadBalancerClassField(undefined, s));
  errs.push(...validateExternalTrafficPolicy(s));

  if (spec.internalTrafficPolicy == null) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') errs.push(required('spec.internalTrafficPolicy'));
  } else if (!has(trafficPolicies, spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, trafficPolicies));
  }

  if (spec.trafficDistribution != null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** Go's %#v of the (protocol, port) key Kubernetes reports for a duplicate port. */
function goServicePortKey(protocol: unknown, port: unknown): RawValue {
  const proto = typeof protocol === 'string' ? protocol : '';
  return new RawValue(
    `core.ServicePort{Name:"", Protocol:${goQuote(proto)}, AppProtocol:(*string)(nil), Port:${Number(port) || 0}, ` +
      `TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  );
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) {
    errs.push(required(`${path}.name`));
  } else if (sp.name) {
    errs.push(...isDNS1123Label(sp.name).map((m) => invalid(`${path}.name`, sp.name, m)));
    if (names.has(sp.name)) errs.push(duplicate(`${path}.name`, sp.name));
    else names.add(sp.name);
  }
  for (const m of isValidPortNum(sp.port)) errs.push(invalid(`${path}.port`, sp.port ?? 0, m));
  if (!sp.protocol) errs.push(required(`${path}.protocol`));
  else if (!has(SupportedProtocols, sp.protocol)) errs.push(notSupported(`${path}.protocol`, sp.protocol, SupportedProtocols));
  errs.push(...validatePortNumOrName(sp.targetPort ?? 0, `${path}.targetPort`));
  if (sp.appProtocol != null) errs.push(...isQualifiedName(sp.appProtocol).map((m) => invalid(`${path}.appProtocol`, sp.appProtocol, m)));
  return errs;
}

/** targetPort / probe ports: 1-65535 or an IANA_SVC_NAME. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  return [invalid(path, port, 'must be an integer or a string')];
}

function validateClientIPAffinityConfig(config: Service['spec']['sessionAffinityConfig'], path: string): FieldError[] {
  const when = 'when session affinity type is ClientIP';
  if (config == null) return [required(path, when)];
  if (config.clientIP == null) return [required(`${path}.clientIP`, when)];
  const t = config.clientIP.timeoutSeconds;
  if (t == null) return [required(`${path}.clientIP.timeoutSeconds`, when)];
  if (!(typeof t === 'number' && t > 0 && t <= MaxClientIPServiceAffinitySeconds)) {
    return [invalid(`${path}.clientIP.timeoutSeconds`, t, `must be greater than 0 and less than ${MaxClientIPServiceAffinitySeconds}`)];
  }
  return [];
}

function validateExternalTrafficPolicy(svc: Service): FieldError[] {
  const spec = svc.spec;
  const errs: FieldError[] = [];
  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy) {
      errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    }
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!has(trafficPolicies, spec.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, trafficPolicies));
  }
  if (!needsHealthCheck(svc)) {
    if (spec.healthCheckNodePort) {
      errs.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (!spec.healthCheckNodePort) {
    errs.push(required('spec.healthCheckNodePort'));
  } else {
    for (const m of isValidPortNum(spec.healthCheckNodePort)) errs.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, m));
  }
  return errs;
}

function validateLoadBalancerClassField(old: Service | undefined, svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const cls = svc.spec.loadBalancerClass;
  if (old && old.spec?.type === 'LoadBalancer' && svc.spec.type === 'LoadBalancer' && (old.spec.loadBalancerClass ?? null) !== (cls ?? null)) {
    errs.push(invalid('spec.loadBalancerClass', cls ?? null, 'may not change once set'));
  }
  if (svc.spec.type === 'LoadBalancer') {
    if (cls != null) errs.push(...isQualifiedName(cls).map((m) => invalid('spec.loadBalancerClass', cls, m)));
  } else if (cls != null) {
    errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

/** clusterIP / clusterIPs / ipFamilies / ipFamilyPolicy consistency (ValidateServiceClusterIPsRelatedFields). */
export function validateServiceClusterIPsRelatedFields(svc: Service): FieldError[] {
  const spec = svc.spec;
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const families = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
  let hasInvalidIPs = false;

  if (spec.clusterIP) {
    if (clusterIPs.length === 0) errs.push(required('spec.clusterIPs'));
    else if (clusterIPs[0] !== spec.clusterIP) errs.push(invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length !== 0) {
    errs.push(invalid('spec.clusterIPs', clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }

  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!has(ipFamilies, f)) errs.push(notSupported(`spec.ipFamilies[${i}]`, f, ipFamilies));
    if (seen.has(f)) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });

  if (spec.ipFamilyPolicy != null && !has(ipFamilyPolicies, spec.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, ipFamilyPolicies));
  }

  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === ClusterIPNone) {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(invalid('spec.clusterIPs', clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(`spec.clusterIPs[${i}]`, ip);
    if (e.length) hasInvalidIPs = true;
    errs.push(...e);
  });

  if (clusterIPs.length > 2) errs.push(invalid('spec.clusterIPs', clusterIPs, 'may only hold up to 2 values'));
  if (hasInvalidIPs) return errs;

  if (clusterIPs.length > 1) {
    const fams = clusterIPs.map(ipFamilyOf);
    const dualStack = clusterIPs.length === 2 && fams[0] !== fams[1];
    if (!dualStack) errs.push(invalid('spec.clusterIPs', clusterIPs, 'may specify no more than one IP for each IP family'));
  }

  if (!isHeadlessService(svc) && clusterIPs.length > 0 && families.length > 0) {
    clusterIPs.forEach((ip, i) => {
      if (i > families.length - 1) return;
      const fam = ipFamilyOf(ip);
      if (families[i] === 'IPv4' && fam === 'IPv6') {
        errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      }
      if (families[i] === 'IPv6' && fam !== 'IPv6') {
        errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
      }
    });
  }
  return errs;
}

/** Update rules: primary clusterIP and ipFamily may not change (except to/from ExternalName or headless). */
export function validateServiceUpdate(svc: Service, old: Service, opts: ValidationOptions = {}): FieldError[] {
  const n: Service = { ...svc, spec: svc.spec ?? {} };
  const o: Service = { ...old, spec: old.spec ?? {} };
  const errs = validateObjectMetaUpdate(n.metadata ?? {}, o.metadata ?? {});
  errs.push(...validateUpgradeDowngradeClusterIPs(o, n));
  errs.push(...validateUpgradeDowngradeIPFamilies(o, n));
  errs.push(...validateLoadBalancerClassField(o, n).filter((e) => e.message === 'may not change once set'));
  if (needsHealthCheck(o) && needsHealthCheck(n) && n.spec.healthCheckNodePort !== o.spec.healthCheckNodePort) {
    errs.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
  }
  errs.push(...validateService(n, opts));
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: Service, svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  if (svc.spec.type === 'ExternalName' || old.spec.type === 'ExternalName') return errs;
  if (isHeadlessService(old) && isHeadlessService(svc)) return errs;
  const o = old.spec.clusterIPs ?? [];
  const n = svc.spec.clusterIPs ?? [];
  if (o.length === n.length) {
    o.forEach((ip, i) => {
      if (ip !== n[i]) errs.push(invalid(`spec.clusterIPs[${i}]`, n, 'may not change once set'));
    });
  } else if (o.length > n.length) {
    if (n.length === 0) errs.push(invalid('spec.clusterIPs[0]', n, 'primary clusterIP can not be unset'));
    if (o.length > 0 && n.length > 0 && n[0] !== o[0]) errs.push(invalid('spec.clusterIPs[0]', n, 'may not change once set'));
    if (n.length === 1 && svc.spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalid('spec.ipFamilyPolicy', svc.spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (o.length > 0 && n[0] !== o[0]) {
    errs.push(invalid('spec.clusterIPs[0]', n, 'may not change once set'));
  }
  return errs;
}

function validateUpgradeDowngradeIPFamilies(old: Service, svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  if (svc.spec.type === 'ExternalName' || old.spec.type === 'ExternalName') return errs;
  const oh = isHeadlessService(old);
  const nh = isHeadlessService(svc);
  if (oh !== nh || nh) return errs;
  const o = old.spec.ipFamilies ?? [];
  const n = svc.spec.ipFamilies ?? [];
  const clusterIPs = svc.spec.clusterIPs ?? [];
  if (o.length === n.length) {
    o.forEach((f, i) => {
      if (f !== n[i]) errs.push(invalid('spec.ipFamilies[0]', n, 'may not change once set'));
    });
  } else if (o.length > n.length) {
    if (clusterIPs.length === 0) errs.push(invalid('spec.ipFamilies[0]', n, 'primary ipFamily can not be unset'));
    if (n.length > 0 && n[0] !== o[0]) errs.push(invalid('spec.ipFamilies[0]', clusterIPs, 'may not change once set'));
    if (n.length === 1 && svc.spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalid('spec.ipFamilyPolicy', svc.spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (o.length > 0 && n.length > 0 && n[0] !== o[0]) {
    errs.push(invalid('spec.ipFamilies[0]', clusterIPs, 'may not change once set'));
  }
  return errs;
}

/** Status updates: metadata rules plus status.loadBalancer.ingress entries. */
export function validateServiceStatusUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata ?? {}, old.metadata ?? {});
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  const base = 'status.loadBalancer.ingress';
  if (svc.spec?.type !== 'LoadBalancer' && ingress.length !== 0) {
    errs.push(forbidden(base, "may only be used when `spec.type` is 'LoadBalancer'"));
    return errs;
  }
  ingress.forEach((ing, i) => {
    const p = `${base}[${i}]`;
    if (ing.ip) errs.push(...validateIP(`${p}.ip`, ing.ip));
    if (ing.ipMode == null) {
      if (ing.ip) errs.push(required(`${p}.ipMode`, 'must be specified when `ip` is set'));
    } else if (!ing.ip) {
      errs.push(forbidden(`${p}.ipMode`, 'may not be specified when `ip` is not set'));
    } else if (!has(lbIPModes, ing.ipMode)) {
      errs.push(notSupported(`${p}.ipMode`, ing.ipMode, lbIPModes));
    }
    if (ing.hostname) {
      errs.push(...isDNS1123Subdomain(ing.hostname).map((m) => invalid(`${p}.hostname`, ing.hostname, m)));
      if (ipFamilyOf(ing.hostname)) errs.push(invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

