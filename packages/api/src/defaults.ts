// Defaulting as kube-apiserver's SetDefaults_* (pkg/apis/core/v1/defaults.go,
// pkg/apis/discovery/v1/defaults.go). Mutates in place and returns the object.
// Allocation (clusterIPs, nodePorts, ipFamilies) is the apiserver's job, not done here.
import type { Container, Endpoints, Namespace, Node, Pod, Probe, Service } from './core.js';
import type { EndpointSlice } from './discovery.js';
import { externallyAccessible } from './service-helpers.js';

export const DefaultClientIPServiceAffinitySeconds = 10800;
export const LabelMetadataName = 'kubernetes.io/metadata.name';

export function defaultService(svc: Service): Service {
  if (typeof svc.spec !== 'object' || svc.spec === null) svc.spec = {};
  const spec = svc.spec;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DefaultClientIPServiceAffinitySeconds } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (typeof p !== 'object' || p === null) continue;
      if (!p.protocol) p.protocol = 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy == null && (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP')) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) spec.allocateLoadBalancerNodePorts = true;
  if (spec.type === 'LoadBalancer') {
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
  // An old-style client sets only clusterIP: mirror it (the registry's NormalizeClusterIPs on create).
  if (spec.clusterIP && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) spec.clusterIPs = [spec.clusterIP];
  return svc;
}

export function defaultEndpoints(ep: Endpoints): Endpoints {
  for (const ss of Array.isArray(ep.subsets) ? ep.subsets : []) {
    for (const p of ss?.ports ?? []) if (p && !p.protocol) p.protocol = 'TCP';
  }
  return ep;
}

export function defaultEndpointSlice(slice: EndpointSlice): EndpointSlice {
  for (const p of Array.isArray(slice.ports) ? slice.ports : []) {
    if (!p) continue;
    if (p.name == null) p.name = '';
    if (p.protocol == null) p.protocol = 'TCP';
  }
  return slice;
}

export function defaultNamespace(ns: Namespace): Namespace {
  if (ns.metadata?.name) {
    ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [LabelMetadataName]: ns.metadata.name };
  }
  ns.spec ??= {};
  // On create the kubernetes finalizer is required (namespace strategy PrepareForCreate).
  const fins = ns.spec.finalizers ?? [];
  if (!fins.includes('kubernetes')) ns.spec.finalizers = [...fins, 'kubernetes'];
  ns.status ??= {};
  if (!ns.status.phase) ns.status.phase = 'Active';
  return ns;
}

export function defaultNode(node: Node): Node {
  node.spec ??= {};
  if (node.spec.podCIDR && !node.spec.podCIDRs?.length) node.spec.podCIDRs = [node.spec.podCIDR];
  if (node.status?.capacity && !node.status.allocatable) node.status.allocatable = { ...node.status.capacity };
  return node;
}

export function defaultPod(pod: Pod): Pod {
  if (typeof pod.spec !== 'object' || pod.spec === null) pod.spec = { containers: [] };
  const spec = pod.spec;
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (spec.terminationGracePeriodSeconds == null) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  if (spec.enableServiceLinks == null) spec.enableServiceLinks = true;
  if (spec.securityContext == null) spec.securityContext = {};
  if (spec.hostNetwork) {
    // Host-network pods publish their container ports on the host.
    for (const c of spec.containers ?? []) for (const p of c?.ports ?? []) if (p && p.hostPort == null) p.hostPort = p.containerPort;
  }
  for (const c of [...(Array.isArray(spec.containers) ? spec.containers : []), ...(spec.initContainers ?? [])]) {
    if (c && typeof c === 'object') defaultContainer(c);
  }
  // podIP and podIPs[0] are the same address (v1 conversion keeps them in sync).
  const st = pod.status;
  if (st) {
    if (st.podIP && !st.podIPs?.length) st.podIPs = [{ ip: st.podIP }];
    else if (!st.podIP && st.podIPs?.length) st.podIP = st.podIPs[0]!.ip;
    if (st.hostIP && !st.hostIPs?.length) st.hostIPs = [{ ip: st.hostIP }];
    else if (!st.hostIP && st.hostIPs?.length) st.hostIP = st.hostIPs[0]!.ip;
  }
  return pod;
}

function defaultContainer(c: Container): void {
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (p && !p.protocol) p.protocol = 'TCP';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  if (!c.imagePullPolicy && c.image) {
    // Untagged or :latest images are pulled every time.
    const ref = c.image.split('@')[0]!;
    const tag = ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.slice(ref.lastIndexOf(':') + 1) : '';
    c.imagePullPolicy = c.image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  if (c.readinessProbe) defaultProbe(c.readinessProbe);
  if (c.livenessProbe) defaultProbe(c.livenessProbe);
}

function defaultProbe(p: Probe): void {
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}
