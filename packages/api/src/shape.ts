// JSON type checks done at decode time. kube-apiserver rejects a body whose field
// types do not fit the Go structs with 400 BadRequest ("cannot be handled as a ...");
// this is the same gate, so strategies and validation only ever see well-typed objects.
import type { Status } from './meta.js';
import { badRequest } from './status-errors.js';

export type Schema =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'intOrString'
  | 'any'
  | { map: Schema }
  | { list: Schema }
  | { fields: Record<string, Schema> };

const str: Schema = 'string';
const int: Schema = 'integer';
const bool: Schema = 'boolean';
const strMap: Schema = { map: str };
const strList: Schema = { list: str };
const obj = (fields: Record<string, Schema>): Schema => ({ fields });
const list = (s: Schema): Schema => ({ list: s });

const objectMeta = obj({
  name: str, generateName: str, namespace: str, uid: str, resourceVersion: str, generation: int,
  creationTimestamp: str, deletionTimestamp: str, deletionGracePeriodSeconds: int,
  labels: strMap, annotations: strMap, finalizers: strList,
  ownerReferences: list(obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool })),
  managedFields: list('any'),
});
const condition = obj({ type: str, status: str, observedGeneration: int, lastTransitionTime: str, lastProbeTime: str, reason: str, message: str });
const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });
const handlerActions = {
  httpGet: obj({ path: str, port: 'intOrString', host: str, scheme: str }),
  tcpSocket: obj({ port: 'intOrString', host: str }),
  exec: obj({ command: strList }),
};
const probe = obj({
  ...handlerActions,
  initialDelaySeconds: int, periodSeconds: int, timeoutSeconds: int, successThreshold: int, failureThreshold: int,
});
const lifecycleHandler = obj({ ...handlerActions, sleep: obj({ seconds: int }) });
const container = obj({
  name: str, image: str, command: strList, args: strList, workingDir: str,
  ports: list(obj({ name: str, containerPort: int, protocol: str, hostPort: int, hostIP: str })),
  env: list(obj({ name: str, value: str, valueFrom: 'any' })),
  readinessProbe: probe, livenessProbe: probe, lifecycle: obj({ postStart: lifecycleHandler, preStop: lifecycleHandler }), imagePullPolicy: str, terminationMessagePath: str, terminationMessagePolicy: str,
});
const containerState = obj({
  waiting: obj({ reason: str, message: str }),
  running: obj({ startedAt: str }),
  terminated: obj({ exitCode: int, signal: int, reason: str, message: str, startedAt: str, finishedAt: str }),
});
const containerStatus = obj({ name: str, ready: bool, started: bool, restartCount: int, image: str, imageID: str, state: containerState, lastState: containerState });
const endpointAddress = obj({ ip: str, hostname: str, nodeName: str, targetRef: objectReference });

const schemas: Record<string, Schema> = {
  services: obj({
    spec: obj({
      type: str, selector: strMap, clusterIP: str, clusterIPs: strList, ipFamilies: strList, ipFamilyPolicy: str,
      ports: list(obj({ name: str, protocol: str, appProtocol: str, port: int, targetPort: 'intOrString', nodePort: int })),
      externalIPs: strList, externalName: str, sessionAffinity: str,
      sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int }) }),
      loadBalancerIP: str, loadBalancerSourceRanges: strList, loadBalancerClass: str, allocateLoadBalancerNodePorts: bool,
      externalTrafficPolicy: str, internalTrafficPolicy: str, healthCheckNodePort: int, publishNotReadyAddresses: bool, trafficDistribution: str,
    }),
    status: obj({
      loadBalancer: obj({ ingress: list(obj({ ip: str, hostname: str, ipMode: str, ports: list(obj({ port: int, protocol: str, error: str })) })) }),
      conditions: list(condition),
    }),
  }),
  endpoints: obj({
    subsets: list(obj({
      addresses: list(endpointAddress), notReadyAddresses: list(endpointAddress),
      ports: list(obj({ name: str, port: int, protocol: str, appProtocol: str })),
    })),
  }),
  endpointslices: obj({
    addressType: str,
    endpoints: list(obj({
      addresses: strList, conditions: obj({ ready: bool, serving: bool, terminating: bool }), hostname: str, targetRef: objectReference,
      nodeName: str, zone: str, hints: obj({ forZones: list(obj({ name: str })), forNodes: list(obj({ name: str })) }),
    })),
    ports: list(obj({ name: str, protocol: str, port: int, appProtocol: str })),
  }),
  pods: obj({
    spec: obj({
      containers: list(container), initContainers: list(container), nodeName: str, hostname: str, subdomain: str, hostNetwork: bool,
      restartPolicy: str, terminationGracePeriodSeconds: int, enableServiceLinks: bool, dnsPolicy: str, schedulerName: str,
      serviceAccountName: str, securityContext: 'any', readinessGates: list(obj({ conditionType: str })),
    }),
    status: obj({
      phase: str, conditions: list(condition), hostIP: str, hostIPs: list(obj({ ip: str })), podIP: str, podIPs: list(obj({ ip: str })),
      startTime: str, containerStatuses: list(containerStatus), initContainerStatuses: list(containerStatus), nominatedNodeName: str,
      qosClass: str, reason: str, message: str,
    }),
  }),
  nodes: obj({
    spec: obj({ podCIDR: str, podCIDRs: strList, unschedulable: bool, providerID: str }),
    status: obj({
      addresses: list(obj({ type: str, address: str })), conditions: list(condition), nodeInfo: strMap, capacity: strMap, allocatable: strMap,
    }),
  }),
  namespaces: obj({ spec: obj({ finalizers: strList }), status: obj({ phase: str }) }),
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

const goType = (s: Schema): string =>
  typeof s === 'string'
    ? ({ string: 'string', integer: 'int32', number: 'float64', boolean: 'bool', intOrString: 'intstr.IntOrString', any: 'interface {}' } as const)[s]
    : 'list' in s ? `[]${goType(s.list)}` : 'map' in s ? `map[string]${goType(s.map)}` : 'struct';

/** Returns a problem description, or undefined when the value fits. `null` fits anything (JSON null = unset). */
function check(v: unknown, s: Schema, path: string): string | undefined {
  if (v === null || v === undefined || s === 'any') return undefined;
  const bad = (): string => `cannot unmarshal ${jsonType(v)} into Go struct field ${path} of type ${goType(s)}`;
  if (s === 'string') return typeof v === 'string' ? undefined : bad();
  if (s === 'boolean') return typeof v === 'boolean' ? undefined : bad();
  if (s === 'number') return typeof v === 'number' && Number.isFinite(v) ? undefined : bad();
  if (s === 'integer') return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 31 ? undefined : bad();
  if (s === 'intOrString') return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? undefined : bad();
  if ('list' in s) {
    if (!Array.isArray(v)) return bad();
    for (let i = 0; i < v.length; i++) {
      // A null list element would decode to a zero value in Go; knet rejects it instead.
      if (v[i] === null || v[i] === undefined) return `cannot unmarshal null into Go struct field ${path} of type ${goType(s.list)}`;
      const e = check(v[i], s.list, path);
      if (e) return e;
    }
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) return bad();
  const o = v as Record<string, unknown>;
  if ('map' in s) {
    for (const k of Object.keys(o)) {
      const e = check(o[k], s.map, path);
      if (e) return e;
    }
    return undefined;
  }
  for (const [k, sub] of Object.entries(s.fields)) {
    const e = check(o[k], sub, `${path}.${k}`);
    if (e) return e;
  }
  return undefined;
}

/**
 * Checks the JSON types of a request body for a resource (by plural). Returns the 400
 * Status kube-apiserver sends for an undecodable body, or undefined when it fits.
 */
export function checkShape(plural: string, kind: string, version: string, body: unknown): Status | undefined {
  const fail = (why: string): Status => badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: json: ${why}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(`cannot unmarshal ${jsonType(body)} into Go value of type struct`);
  }
  const o = body as Record<string, unknown>;
  for (const f of ['apiVersion', 'kind'] as const) {
    const e = check(o[f], 'string', `${kind}.${f}`);
    if (e) return fail(e);
  }
  const metaErr = check(o['metadata'], objectMeta, `${kind}.metadata`);
  if (metaErr) return fail(metaErr);
  const schema = schemas[plural];
  if (schema) {
    const e = check(body, schema, kind);
    if (e) return fail(e);
  }
  return undefined;
}

/** The JSON schema checkShape applies to a resource's body (metadata aside); for tests and tooling. */
export function shapeSchema(plural: string): Schema | undefined {
  return schemas[plural];
}

export const objectMetaSchema: Schema = objectMeta;
