// What the zone reads of each kind, for an informer's transform (client-go's TransformFunc): the informer caches
// these instead of whole objects. With 10,000 Services and 100,000 endpoints the whole objects were a third of the
// dns process's heap (node names, UIDs, timestamps, status, a conditions object per endpoint).
// Malformed input is passed through as it is, never thrown on: the zone rejects it where it is fed.
import type { Endpoint, EndpointConditions, EndpointSlice, KubeObject, Namespace, ObjectMeta, Pod, Service } from '@knet/api';
import { LabelServiceName } from '@knet/api';

/** The annotation CoreDNS reads for programming latency (kept on EndpointSlices). */
export const LastChangeTriggerTime = 'endpoints.kubernetes.io/last-change-trigger-time';

// One shared object per condition state instead of one per endpoint.
const READY: EndpointConditions = Object.freeze({ ready: true });
const NOT_READY: EndpointConditions = Object.freeze({ ready: false });
const UNKNOWN: EndpointConditions = Object.freeze({});

/** Typed input may still be anything at runtime (it came off the wire). */
function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** name, namespace, resourceVersion (the informer's), and only the named labels and annotations. */
function slimMeta(m: ObjectMeta, label?: string, annotation?: string): ObjectMeta {
  if (!isObject(m)) return m;
  const l = label !== undefined && isObject(m.labels) ? m.labels?.[label] : undefined;
  const a = annotation !== undefined && isObject(m.annotations) ? m.annotations?.[annotation] : undefined;
  // Every field in the literal (undefined or not): a field added later would cost a property array per object.
  return { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion, labels: l === undefined ? undefined : { [label!]: l }, annotations: a === undefined ? undefined : { [annotation!]: a } };
}

export function slimService(s: Service): Service {
  if (!isObject(s) || !isObject(s.spec)) return isObject(s) ? { ...s, metadata: slimMeta(s.metadata) } : s;
  const { type, clusterIP, clusterIPs, externalName, ports, publishNotReadyAddresses } = s.spec;
  return {
    metadata: slimMeta(s.metadata),
    spec: {
      type,
      clusterIP,
      clusterIPs,
      externalName,
      ports: Array.isArray(ports) ? ports.map((p) => (isObject(p) ? { name: p.name, protocol: p.protocol, port: p.port } : p)) : ports,
      publishNotReadyAddresses,
    },
  };
}

function slimEndpoint(e: Endpoint): Endpoint {
  if (!isObject(e)) return e;
  const c = e.conditions;
  const conditions = c === undefined ? undefined : !isObject(c) ? c : c.ready === true ? READY : c.ready === false ? NOT_READY : c.ready === undefined ? UNKNOWN : c;
  return { addresses: e.addresses, conditions, hostname: e.hostname };
}

export function slimEndpointSlice(s: EndpointSlice): EndpointSlice {
  if (!isObject(s)) return s;
  return {
    metadata: slimMeta(s.metadata, LabelServiceName, LastChangeTriggerTime),
    addressType: s.addressType,
    endpoints: Array.isArray(s.endpoints) ? s.endpoints.map(slimEndpoint) : s.endpoints,
    ports: Array.isArray(s.ports) ? s.ports.map((p) => (isObject(p) ? { name: p.name, protocol: p.protocol, port: p.port } : p)) : s.ports,
  };
}

/** Pods and Namespaces only make their namespace known: their name is all the zone keeps. */
export function slimMetaOnly<T extends Pod | Namespace | KubeObject>(o: T): T {
  return isObject(o) ? ({ metadata: slimMeta(o.metadata) } as T) : o;
}
