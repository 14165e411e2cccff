// The resource registry: one strategy per resource, as kube-apiserver's registry
// strategies (pkg/registry/*/strategy.go). The generic store (apiserver) handles
// uid, resourceVersion, timestamps, preconditions and watch; strategies hold what
// differs per kind: defaulting, what a create/update/status update may change, validation.
import type { KubeObject } from './meta.js';
import type { Endpoints, Namespace, Node, Pod, Service } from './core.js';
import type { EndpointSlice } from './discovery.js';
import { invalid, type FieldError } from './field-errors.js';
import { cloneJSON } from './json-clone.js';
import { defaultEndpointSlice, defaultEndpoints, defaultNamespace, defaultNode, defaultPod, defaultService, LabelMetadataName } from './defaults.js';
import { needsClusterIP, needsHealthCheck, needsNodePort, externallyAccessible } from './service-helpers.js';
import { deepEqual, validateObjectMetaUpdate } from './validation/meta.js';
import { validateService, validateServiceStatusUpdate, validateServiceUpdate } from './validation/service.js';
import { validateEndpoints, validateEndpointsUpdate } from './validation/endpoints.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './validation/endpointslice.js';
import { validatePod, validatePodStatusUpdate, validatePodUpdate } from './validation/pod.js';
import { validateNode, validateNodeUpdate } from './validation/node.js';
import { validateNamespace, validateNamespaceUpdate } from './validation/namespace.js';

export interface ResourceInfo {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  categories: string[];
  /** e.g. 'status'. */
  subresources: string[];
  verbs: string[];
}

export interface Strategy<T extends KubeObject = KubeObject> {
  info: ResourceInfo;
  /** Defaults the object and resets what a create may not set (e.g. Service status). */
  prepareForCreate(obj: T): void;
  /** Defaults the object and keeps what a main-resource update may not change (status). */
  prepareForUpdate(obj: T, old: T): void;
  /** Keeps the old spec (and identity metadata) on a status update. */
  prepareForStatusUpdate(obj: T, old: T): void;
  validate(obj: T): FieldError[];
  validateUpdate(obj: T, old: T): FieldError[];
  validateStatusUpdate(obj: T, old: T): FieldError[];
}

const fullVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** `v1` or `discovery.k8s.io/v1`. */
export function apiVersionOf(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

const clone = <V>(v: V): V => cloneJSON(v);

/**
 * On a status update only status, labels and annotations come from the request;
 * the rest of metadata keeps its stored value (resourceVersion stays the caller's precondition).
 */
function keepMetadataForStatus(obj: KubeObject, old: KubeObject): void {
  const m = obj.metadata ?? {};
  obj.metadata = { ...clone(old.metadata ?? {}), labels: m.labels, annotations: m.annotations, resourceVersion: m.resourceVersion };
  if (obj.metadata.labels === undefined) delete obj.metadata.labels;
  if (obj.metadata.annotations === undefined) delete obj.metadata.annotations;
  if (obj.metadata.resourceVersion === undefined) delete obj.metadata.resourceVersion;
}

/** A main-resource update keeps the stored status: only the status subresource writes it. */
function keepStatus<T extends { status?: unknown }>(obj: T, old: T): void {
  obj.status = clone(old.status);
  if (obj.status === undefined) delete obj.status;
}

/** A status update keeps the stored spec and identity metadata. */
function keepSpecForStatus<T extends KubeObject & { spec?: unknown }>(obj: T, old: T): void {
  keepMetadataForStatus(obj, old);
  obj.spec = clone(old.spec);
}

// ---- services ----------------------------------------------------------------

/** On update, a Service that omits allocated values keeps them (patchAllocatedValues). */
function patchAllocatedValues(svc: Service, old: Service): void {
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!svc.spec.clusterIP) svc.spec.clusterIP = old.spec.clusterIP;
    if (!svc.spec.clusterIPs?.length && old.spec.clusterIPs?.length) svc.spec.clusterIPs = clone(old.spec.clusterIPs);
    if (!svc.spec.clusterIP) delete svc.spec.clusterIP;
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const used = new Set((svc.spec.ports ?? []).map((p) => p.nodePort).filter((n) => n));
    const oldByPort = new Map((old.spec.ports ?? []).map((p) => [`${p.port}/${p.protocol}`, p.nodePort]));
    for (const p of svc.spec.ports ?? []) {
      if (p.nodePort) continue;
      const prev = oldByPort.get(`${p.port}/${p.protocol}`);
      if (prev && !used.has(prev)) p.nodePort = prev;
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(svc) && !svc.spec.healthCheckNodePort) {
    svc.spec.healthCheckNodePort = old.spec.healthCheckNodePort;
  }
}

/** Keeps clusterIP and clusterIPs[0] in step when a client only sends one of them (NormalizeClusterIPs). */
function normalizeClusterIPs(svc: Service, old: Service): void {
  const s = svc.spec;
  const o = old.spec;
  if (o.clusterIPs?.length && !s.clusterIPs?.length && o.clusterIP === s.clusterIP) s.clusterIPs = clone(o.clusterIPs);
  if (o.clusterIP !== s.clusterIP) {
    if (o.clusterIP && !s.clusterIP) {
      if (s.clusterIPs?.length && o.clusterIPs?.[0] === s.clusterIPs[0]) delete s.clusterIPs;
      return;
    }
    if (o.clusterIPs?.length && s.clusterIPs?.length && o.clusterIPs[0] === s.clusterIPs[0] && s.clusterIP) {
      s.clusterIPs = [s.clusterIP, ...s.clusterIPs.slice(1)];
    }
  }
}

/** Drops values that no longer apply after a type change, unless the user changed them (dropTypeDependentFields). */
function dropTypeDependentFields(svc: Service, old: Service): void {
  const s = svc.spec;
  const o = old.spec;
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (s.clusterIP === o.clusterIP && deepEqual(s.clusterIPs, o.clusterIPs)) {
      delete s.clusterIP;
      delete s.clusterIPs;
    }
    if (deepEqual(s.ipFamilies, o.ipFamilies)) delete s.ipFamilies;
    if (s.ipFamilyPolicy === o.ipFamilyPolicy) delete s.ipFamilyPolicy;
  }
  const nodePorts = (x: Service): unknown => (x.spec.ports ?? []).map((p) => p.nodePort ?? 0);
  if (needsNodePort(old) && !needsNodePort(svc) && deepEqual(nodePorts(svc), nodePorts(old))) {
    for (const p of s.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(svc) && s.healthCheckNodePort === o.healthCheckNodePort) delete s.healthCheckNodePort;
  if (o.type === 'LoadBalancer' && s.type !== 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts != null && s.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts) {
      delete s.allocateLoadBalancerNodePorts;
    }
    if (s.loadBalancerClass === o.loadBalancerClass) delete s.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && s.externalTrafficPolicy === o.externalTrafficPolicy) {
    delete s.externalTrafficPolicy;
  }
  if (s.type !== 'LoadBalancer' && svc.status) svc.status.loadBalancer = {};
}

/**
 * kube-apiserver allocates before it validates; knet's apiserver validates first and then
 * asks the allocator, which fills in a missing healthCheckNodePort. So its absence is not an error here.
 */
const notAllocatedYet = (e: FieldError): boolean => !(e.field === 'spec.healthCheckNodePort' && e.type === 'FieldValueRequired');

const servicesStrategy: Strategy<Service> = {
  info: {
    group: '', version: 'v1', kind: 'Service', listKind: 'ServiceList', plural: 'services', singular: 'service',
    shortNames: ['svc'], namespaced: true, categories: ['all'], subresources: ['status'], verbs: fullVerbs,
  },
  prepareForCreate(svc) {
    defaultService(svc);
    svc.status = { loadBalancer: {} };
  },
  prepareForUpdate(svc, stored) {
    defaultService(svc);
    const old: Service = { ...stored, spec: stored.spec ?? {} };
    svc.status = clone(old.status) ?? { loadBalancer: {} };
    patchAllocatedValues(svc, old);
    normalizeClusterIPs(svc, old);
    dropTypeDependentFields(svc, old);
  },
  prepareForStatusUpdate(svc, old) {
    keepSpecForStatus(svc, old);
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  },
  validate: (svc) => validateService(svc).filter(notAllocatedYet),
  validateUpdate: (svc, old) => validateServiceUpdate(svc, old).filter(notAllocatedYet),
  validateStatusUpdate: (svc, old) => validateServiceStatusUpdate(svc, old),
};

// ---- endpoints ---------------------------------------------------------------

const endpointsStrategy: Strategy<Endpoints> = {
  info: {
    group: '', version: 'v1', kind: 'Endpoints', listKind: 'EndpointsList', plural: 'endpoints', singular: 'endpoints',
    shortNames: ['ep'], namespaced: true, categories: [], subresources: [], verbs: fullVerbs,
  },
  prepareForCreate: (ep) => void defaultEndpoints(ep),
  prepareForUpdate: (ep) => void defaultEndpoints(ep),
  prepareForStatusUpdate: () => undefined,
  validate: (ep) => validateEndpoints(ep),
  validateUpdate: (ep, old) => validateEndpointsUpdate(ep, old),
  validateStatusUpdate: (ep, old) => validateEndpointsUpdate(ep, old),
};

// ---- endpointslices ------------------------------------------------------------

const endpointSlicesStrategy: Strategy<EndpointSlice> = {
  info: {
    group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices',
    singular: 'endpointslice', shortNames: [], namespaced: true, categories: [], subresources: [], verbs: fullVerbs,
  },
  prepareForCreate(slice) {
    defaultEndpointSlice(slice);
    slice.metadata.generation = 1;
  },
  prepareForUpdate(slice, old) {
    defaultEndpointSlice(slice);
    // Anything but metadata (or a label change) is a new generation.
    const body = (s: EndpointSlice): unknown => ({ ...s, metadata: undefined, apiVersion: undefined, kind: undefined });
    const changed = !deepEqual(body(slice), body(old)) || !deepEqual(slice.metadata?.labels ?? {}, old.metadata?.labels ?? {});
    slice.metadata.generation = (old.metadata?.generation ?? 0) + (changed ? 1 : 0);
  },
  prepareForStatusUpdate: () => undefined,
  validate: (s) => validateEndpointSlice(s),
  validateUpdate: (s, old) => validateEndpointSliceUpdate(s, old),
  validateStatusUpdate: (s, old) => validateEndpointSliceUpdate(s, old),
};

// ---- pods ----------------------------------------------------------------------

const podsStrategy: Strategy<Pod> = {
  info: {
    group: '', version: 'v1', kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod',
    shortNames: ['po'], namespaced: true, categories: ['all'], subresources: ['status'], verbs: fullVerbs,
  },
  prepareForCreate(pod) {
    // Kubernetes drops a new Pod's status; knet keeps a given one (podIP, conditions) so users can
    // bring their own processes as Pods in one `kubectl apply`. Without one, it starts Pending.
    pod.status = { phase: 'Pending', qosClass: 'BestEffort', ...pod.status };
    defaultPod(pod);
  },
  prepareForUpdate(pod, old) {
    defaultPod(pod);
    keepStatus(pod, old);
  },
  prepareForStatusUpdate(pod, old) {
    keepSpecForStatus(pod, old);
    defaultPod(pod);
  },
  validate: (pod) => validatePod(pod),
  validateUpdate: (pod, old) => validatePodUpdate(pod, old),
  validateStatusUpdate: (pod, old) => validatePodStatusUpdate(pod, old),
};

// ---- nodes ---------------------------------------------------------------------

const nodesStrategy: Strategy<Node> = {
  info: {
    group: '', version: 'v1', kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node',
    shortNames: ['no'], namespaced: false, categories: [], subresources: ['status'], verbs: fullVerbs,
  },
  prepareForCreate: (node) => void defaultNode(node),
  prepareForUpdate(node, old) {
    defaultNode(node);
    keepStatus(node, old);
  },
  prepareForStatusUpdate(node, old) {
    keepSpecForStatus(node, old);
    defaultNode(node);
  },
  validate: (node) => validateNode(node),
  validateUpdate: (node, old) => validateNodeUpdate(node, old),
  validateStatusUpdate: (node, old) => validateNodeUpdate(node, old),
};

// ---- namespaces ------------------------------------------------------------------

const namespacesStrategy: Strategy<Namespace> = {
  info: {
    group: '', version: 'v1', kind: 'Namespace', listKind: 'NamespaceList', plural: 'namespaces', singular: 'namespace',
    shortNames: ['ns'], namespaced: false, categories: [], subresources: ['status'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  },
  prepareForCreate(ns) {
    defaultNamespace(ns);
    ns.status = { phase: 'Active' };
  },
  prepareForUpdate(ns, old) {
    if (ns.metadata?.name) ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [LabelMetadataName]: ns.metadata.name };
    ns.spec = { ...(ns.spec ?? {}), finalizers: clone(old.spec?.finalizers) };
    if (ns.spec.finalizers === undefined) delete ns.spec.finalizers;
    keepStatus(ns, old);
  },
  prepareForStatusUpdate(ns, old) {
    keepSpecForStatus(ns, old);
  },
  validate: (ns) => validateNamespace(ns),
  validateUpdate: (ns, old) => validateNamespaceUpdate(ns, old),
  validateStatusUpdate(ns, old) {
    const errs = validateObjectMetaUpdate(ns.metadata ?? {}, old.metadata ?? {});
    const phase = ns.status?.phase ?? '';
    if (!ns.metadata?.deletionTimestamp) {
      if (phase !== 'Active') errs.push(invalid('status.Phase', phase, 'may only be \'Active\' if `deletionTimestamp` is empty'));
    } else if (phase !== 'Terminating') {
      errs.push(invalid('status.Phase', phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
    }
    return errs;
  },
};

/** Every object reaching a strategy has a metadata object, whatever the request body held. */
function withMetadata<T extends KubeObject>(s: Strategy<T>): Strategy<T> {
  const ensure = (o: T): void => {
    if (typeof o.metadata !== 'object' || o.metadata === null) o.metadata = {};
  };
  return {
    ...s,
    prepareForCreate(obj) {
      ensure(obj);
      s.prepareForCreate(obj);
    },
    prepareForUpdate(obj, old) {
      ensure(obj);
      s.prepareForUpdate(obj, old);
      // As kube-apiserver's BeforeUpdate: system fields come from the stored object (only a DELETE
      // sets the deletion ones), and an update that leaves out the uid keeps the stored one.
      for (const k of ['creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
        if (old.metadata?.[k] === undefined) delete obj.metadata[k];
        else (obj.metadata as Record<string, unknown>)[k] = old.metadata[k];
      }
      if (!obj.metadata.uid && old.metadata?.uid) obj.metadata.uid = old.metadata.uid;
    },
    prepareForStatusUpdate(obj, old) {
      ensure(obj);
      s.prepareForStatusUpdate(obj, old);
    },
  };
}

/** Every resource knet serves. */
export const strategies: Strategy[] = [
  withMetadata(namespacesStrategy),
  withMetadata(servicesStrategy),
  withMetadata(endpointsStrategy),
  withMetadata(podsStrategy),
  withMetadata(nodesStrategy),
  withMetadata(endpointSlicesStrategy),
] as Strategy[];

/** The strategy for a group ('' for core) and plural resource name. */
export function strategyFor(group: string, plural: string): Strategy | undefined {
  return strategies.find((s) => s.info.group === group && s.info.plural === plural);
}

/** The strategy for an apiVersion and kind, e.g. ('discovery.k8s.io/v1', 'EndpointSlice'). */
export function strategyForKind(apiVersion: string, kind: string): Strategy | undefined {
  return strategies.find((s) => apiVersionOf(s.info) === apiVersion && s.info.kind === kind);
}

/** Resolves what a user types (plural, singular, short name, kind; any case) to a strategy. */
export function resolveResource(name: string): Strategy | undefined {
  const n = name.toLowerCase();
  return strategies.find(
    (s) => s.info.plural === n || s.info.singular === n || s.info.shortNames.includes(n) || s.info.kind.toLowerCase() === n,
  );
}

