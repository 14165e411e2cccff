// OpenAPI v3 component schemas for the kinds knet serves, named as kube-apiserver names them.
// One source of truth for: the /openapi/v3 documents (kubectl validation, apply, explain),
// unknown-field detection (fieldValidation) and strategic-merge-patch list keys.

export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  allOf?: Schema[];
  $ref?: string;
  enum?: string[];
  default?: unknown;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'map' | 'set';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const CORE = 'io.k8s.api.core.v1';
export const DISCOVERY = 'io.k8s.api.discovery.v1';

const str: Schema = { type: 'string' };
const int32: Schema = { type: 'integer', format: 'int32' };
const int64: Schema = { type: 'integer', format: 'int64' };
const bool: Schema = { type: 'boolean' };
const time: Schema = { type: 'string', format: 'date-time' };
const open: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const intOrString: Schema = { 'x-kubernetes-int-or-string': true, format: 'int-or-string' };
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string', default: '' } };

export function ref(name: string): Schema {
  return { allOf: [{ $ref: `#/components/schemas/${name}` }] };
}
function obj(properties: Record<string, Schema>, required?: string[], extra: Partial<Schema> = {}): Schema {
  const s: Schema = { type: 'object', properties, ...extra };
  if (required) s.required = required;
  return s;
}
function atomic(items: Schema): Schema {
  return { type: 'array', items, 'x-kubernetes-list-type': 'atomic' };
}
function set(items: Schema): Schema {
  return { type: 'array', items, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
}
function keyed(items: Schema, mergeKey: string, mapKeys: string[] = [mergeKey]): Schema {
  return {
    type: 'array', items,
    'x-kubernetes-patch-merge-key': mergeKey, 'x-kubernetes-patch-strategy': 'merge',
    'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': mapKeys,
  };
}
function gvk(group: string, version: string, kind: string): Pick<Schema, 'x-kubernetes-group-version-kind'> {
  return { 'x-kubernetes-group-version-kind': [{ group, version, kind }] };
}
function topLevel(group: string, kind: string, fields: Record<string, Schema>): Schema {
  return obj({ apiVersion: str, kind: str, metadata: ref(`${META}.ObjectMeta`), ...fields }, undefined, gvk(group, 'v1', kind));
}
function list(group: string, kind: string, item: string): Schema {
  return obj({ apiVersion: str, kind: str, metadata: ref(`${META}.ListMeta`), items: { type: 'array', items: ref(item) } }, ['items'],
    gvk(group, 'v1', `${kind}List`));
}

const meta: Record<string, Schema> = {
  [`${META}.ObjectMeta`]: obj({
    name: str, generateName: str, namespace: str, uid: str, resourceVersion: str, generation: int64,
    creationTimestamp: ref(`${META}.Time`), deletionTimestamp: ref(`${META}.Time`), deletionGracePeriodSeconds: int64,
    labels: strMap, annotations: strMap, selfLink: str,
    ownerReferences: keyed(ref(`${META}.OwnerReference`), 'uid'),
    finalizers: set(str),
    managedFields: atomic(ref(`${META}.ManagedFieldsEntry`)),
  }),
  [`${META}.ListMeta`]: obj({ resourceVersion: str, continue: str, remainingItemCount: int64, selfLink: str }),
  [`${META}.Time`]: time,
  [`${META}.OwnerReference`]: obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool },
    ['apiVersion', 'kind', 'name', 'uid'], { 'x-kubernetes-map-type': 'atomic' }),
  [`${META}.ManagedFieldsEntry`]: obj({ manager: str, operation: str, apiVersion: str, time: ref(`${META}.Time`), fieldsType: str,
    fieldsV1: ref(`${META}.FieldsV1`), subresource: str }),
  [`${META}.FieldsV1`]: open,
  [`${META}.LabelSelector`]: obj({ matchLabels: strMap, matchExpressions: atomic(ref(`${META}.LabelSelectorRequirement`)) },
    undefined, { 'x-kubernetes-map-type': 'atomic' }),
  [`${META}.LabelSelectorRequirement`]: obj({ key: str, operator: str, values: atomic(str) }, ['key', 'operator']),
  [`${META}.Condition`]: obj({ type: str, status: str, observedGeneration: int64, lastTransitionTime: ref(`${META}.Time`), reason: str, message: str },
    ['type', 'status', 'lastTransitionTime', 'reason', 'message']),
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': intOrString,
};

const core: Record<string, Schema> = {
  [`${CORE}.Service`]: topLevel('', 'Service', { spec: ref(`${CORE}.ServiceSpec`), status: ref(`${CORE}.ServiceStatus`) }),
  [`${CORE}.ServiceList`]: list('', 'Service', `${CORE}.Service`),
  [`${CORE}.ServiceSpec`]: obj({
    type: { type: 'string', enum: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] },
    selector: { ...strMap, 'x-kubernetes-map-type': 'atomic' },
    ports: keyed(ref(`${CORE}.ServicePort`), 'port', ['port', 'protocol']),
    clusterIP: str, clusterIPs: atomic(str), ipFamilies: atomic(str), ipFamilyPolicy: str,
    externalIPs: atomic(str), externalName: str,
    sessionAffinity: str, sessionAffinityConfig: ref(`${CORE}.SessionAffinityConfig`),
    loadBalancerIP: str, loadBalancerSourceRanges: atomic(str), loadBalancerClass: str,
    allocateLoadBalancerNodePorts: bool, externalTrafficPolicy: str, internalTrafficPolicy: str,
    healthCheckNodePort: int32, publishNotReadyAddresses: bool, trafficDistribution: str,
  }),
  [`${CORE}.ServicePort`]: obj({ name: str, protocol: { type: 'string', default: 'TCP' }, appProtocol: str, port: int32,
    targetPort: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'), nodePort: int32 }, ['port']),
  [`${CORE}.SessionAffinityConfig`]: obj({ clientIP: ref(`${CORE}.ClientIPConfig`) }),
  [`${CORE}.ClientIPConfig`]: obj({ timeoutSeconds: int32 }),
  [`${CORE}.ServiceStatus`]: obj({
    loadBalancer: ref(`${CORE}.LoadBalancerStatus`),
    conditions: keyed(ref(`${META}.Condition`), 'type'),
  }),
  [`${CORE}.LoadBalancerStatus`]: obj({ ingress: atomic(ref(`${CORE}.LoadBalancerIngress`)) }),
  [`${CORE}.LoadBalancerIngress`]: obj({ ip: str, hostname: str, ipMode: str, ports: atomic(ref(`${CORE}.PortStatus`)) }),
  [`${CORE}.PortStatus`]: obj({ port: int32, protocol: str, error: str }, ['port', 'protocol']),

  [`${CORE}.Endpoints`]: topLevel('', 'Endpoints', { subsets: atomic(ref(`${CORE}.EndpointSubset`)) }),
  [`${CORE}.EndpointsList`]: list('', 'Endpoints', `${CORE}.Endpoints`),
  [`${CORE}.EndpointSubset`]: obj({
    addresses: atomic(ref(`${CORE}.EndpointAddress`)),
    notReadyAddresses: atomic(ref(`${CORE}.EndpointAddress`)),
    ports: atomic(ref(`${CORE}.EndpointPort`)),
  }),
  [`${CORE}.EndpointAddress`]: obj({ ip: str, hostname: str, nodeName: str, targetRef: ref(`${CORE}.ObjectReference`) }, ['ip'],
    { 'x-kubernetes-map-type': 'atomic' }),
  [`${CORE}.EndpointPort`]: obj({ name: str, port: int32, protocol: str, appProtocol: str }, ['port'], { 'x-kubernetes-map-type': 'atomic' }),
  [`${CORE}.ObjectReference`]: obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str },
    undefined, { 'x-kubernetes-map-type': 'atomic' }),

  [`${CORE}.Pod`]: topLevel('', 'Pod', { spec: ref(`${CORE}.PodSpec`), status: ref(`${CORE}.PodStatus`) }),
  [`${CORE}.PodList`]: list('', 'Pod', `${CORE}.Pod`),
  // Pods carry many fields knet does not model (volumes, affinity...): kept, not rejected.
  [`${CORE}.PodSpec`]: obj({
    containers: keyed(ref(`${CORE}.Container`), 'name'),
    initContainers: keyed(ref(`${CORE}.Container`), 'name'),
    nodeName: str, hostname: str, subdomain: str, hostNetwork: bool, restartPolicy: str,
    terminationGracePeriodSeconds: int64, enableServiceLinks: bool, dnsPolicy: str, nodeSelector: strMap,
    serviceAccountName: str,
  }, ['containers'], { 'x-kubernetes-preserve-unknown-fields': true }),
  [`${CORE}.Container`]: obj({
    name: str, image: str, command: atomic(str), args: atomic(str), workingDir: str, imagePullPolicy: str,
    ports: keyed(ref(`${CORE}.ContainerPort`), 'containerPort', ['containerPort', 'protocol']),
    env: keyed(ref(`${CORE}.EnvVar`), 'name'),
    readinessProbe: ref(`${CORE}.Probe`), livenessProbe: ref(`${CORE}.Probe`), startupProbe: ref(`${CORE}.Probe`),
    lifecycle: ref(`${CORE}.Lifecycle`),
  }, ['name'], { 'x-kubernetes-preserve-unknown-fields': true }),
  [`${CORE}.ContainerPort`]: obj({ name: str, containerPort: int32, protocol: { type: 'string', default: 'TCP' }, hostPort: int32, hostIP: str },
    ['containerPort']),
  [`${CORE}.EnvVar`]: obj({ name: str, value: str }, ['name'], { 'x-kubernetes-preserve-unknown-fields': true }),
  [`${CORE}.Probe`]: open,
  [`${CORE}.Lifecycle`]: open,
  [`${CORE}.PodStatus`]: obj({
    phase: str, conditions: keyed(ref(`${CORE}.PodCondition`), 'type'), hostIP: str,
    hostIPs: keyed(ref(`${CORE}.HostIP`), 'ip'), podIP: str, podIPs: keyed(ref(`${CORE}.PodIP`), 'ip'),
    startTime: ref(`${META}.Time`), containerStatuses: atomic(ref(`${CORE}.ContainerStatus`)), reason: str, message: str,
  }, undefined, { 'x-kubernetes-preserve-unknown-fields': true }),
  [`${CORE}.PodCondition`]: obj({ type: str, status: str, observedGeneration: int64, lastProbeTime: ref(`${META}.Time`),
    lastTransitionTime: ref(`${META}.Time`), reason: str, message: str }, ['type', 'status']),
  [`${CORE}.PodIP`]: obj({ ip: str }, ['ip']),
  [`${CORE}.HostIP`]: obj({ ip: str }, ['ip']),
  [`${CORE}.ContainerStatus`]: obj({ name: str, ready: bool, started: bool, restartCount: int32, image: str, imageID: str, state: open },
    ['name', 'ready', 'restartCount'], { 'x-kubernetes-preserve-unknown-fields': true }),

  [`${CORE}.Node`]: topLevel('', 'Node', { spec: ref(`${CORE}.NodeSpec`), status: ref(`${CORE}.NodeStatus`) }),
  [`${CORE}.NodeList`]: list('', 'Node', `${CORE}.Node`),
  [`${CORE}.NodeSpec`]: obj({ podCIDR: str, podCIDRs: set(str), unschedulable: bool, providerID: str },
    undefined, { 'x-kubernetes-preserve-unknown-fields': true }),
  [`${CORE}.NodeStatus`]: obj({
    addresses: keyed(ref(`${CORE}.NodeAddress`), 'type'), conditions: keyed(ref(`${CORE}.NodeCondition`), 'type'),
    nodeInfo: open, capacity: strMap, allocatable: strMap,
  }, undefined, { 'x-kubernetes-preserve-unknown-fields': true }),
  [`${CORE}.NodeAddress`]: obj({ type: str, address: str }, ['type', 'address']),
  [`${CORE}.NodeCondition`]: obj({ type: str, status: str, lastHeartbeatTime: ref(`${META}.Time`), lastTransitionTime: ref(`${META}.Time`),
    reason: str, message: str }, ['type', 'status']),

  [`${CORE}.Namespace`]: topLevel('', 'Namespace', { spec: ref(`${CORE}.NamespaceSpec`), status: ref(`${CORE}.NamespaceStatus`) }),
  [`${CORE}.NamespaceList`]: list('', 'Namespace', `${CORE}.Namespace`),
  [`${CORE}.NamespaceSpec`]: obj({ finalizers: atomic(str) }),
  [`${CORE}.NamespaceStatus`]: obj({ phase: str, conditions: keyed(open, 'type') }),
};

const discovery: Record<string, Schema> = {
  [`${DISCOVERY}.EndpointSlice`]: topLevel('discovery.k8s.io', 'EndpointSlice', {
    addressType: str, endpoints: atomic(ref(`${DISCOVERY}.Endpoint`)), ports: atomic(ref(`${DISCOVERY}.EndpointPort`)),
  }),
  [`${DISCOVERY}.EndpointSliceList`]: list('discovery.k8s.io', 'EndpointSlice', `${DISCOVERY}.EndpointSlice`),
  [`${DISCOVERY}.Endpoint`]: obj({
    addresses: set(str), conditions: ref(`${DISCOVERY}.EndpointConditions`), hostname: str,
    targetRef: ref(`${CORE}.ObjectReference`), deprecatedTopology: strMap, nodeName: str, zone: str, hints: ref(`${DISCOVERY}.EndpointHints`),
  }, ['addresses']),
  [`${DISCOVERY}.EndpointConditions`]: obj({ ready: bool, serving: bool, terminating: bool }),
  [`${DISCOVERY}.EndpointHints`]: obj({ forZones: atomic(obj({ name: str }, ['name'])), forNodes: atomic(obj({ name: str }, ['name'])) }),
  [`${DISCOVERY}.EndpointPort`]: obj({ name: str, protocol: str, port: int32, appProtocol: str }, undefined, { 'x-kubernetes-map-type': 'atomic' }),
};

export const componentSchemas: Record<string, Schema> = { ...meta, ...core, ...discovery };

/** Schema name of a kind, e.g. ('', 'Service') → io.k8s.api.core.v1.Service. */
export function schemaNameFor(group: string, kind: string): string | undefined {
  const name = `${group === '' ? CORE : group === 'discovery.k8s.io' ? DISCOVERY : '?'}.${kind}`;
  return componentSchemas[name] ? name : undefined;
}

/** What each referring schema resolves to: every request body is checked against them, field by field. */
const resolved = new WeakMap<Schema, Schema | undefined>();

/** Follows `$ref`/single `allOf` to the schema it names. */
export function resolve(s: Schema | undefined): Schema | undefined {
  if (s === undefined || (s.$ref === undefined && s.allOf === undefined)) return s;
  let r = resolved.get(s);
  if (r === undefined && !resolved.has(s)) resolved.set(s, (r = follow(s)));
  return r;
}

function follow(s: Schema): Schema | undefined {
  let cur: Schema | undefined = s;
  for (let i = 0; cur && i < 10; i++) {
    const r: string | undefined = cur.$ref ?? (cur.allOf && cur.allOf.length === 1 ? cur.allOf[0]!.$ref : undefined);
    if (!r) return cur;
    cur = componentSchemas[r.replace('#/components/schemas/', '')];
  }
  return cur;
}
