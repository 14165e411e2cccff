// What kube-apiserver creates at start: the system namespaces and the `kubernetes` Service with
// its Endpoints and EndpointSlice pointing at this apiserver. Idempotent; run at every start.
import { isIPv6 } from 'node:net';
import { strategyFor, type Endpoints, type EndpointSlice, type KubeObject, type Service } from '@knet/api';
import { storeErrorReason, type ObjectStore } from './deps.js';
import { firstAddress } from './cidr.js';
import type { ServiceAllocator } from './service-allocation.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface BootstrapOptions {
  store: ObjectStore;
  allocator: ServiceAllocator;
  /** Primary service CIDR; the `kubernetes` Service takes its first address. */
  serviceCIDR: string;
  advertiseAddress: string;
  port: number;
}

async function getOrUndefined(store: ObjectStore, resource: string, ns: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await store.get(resource, ns, name);
  } catch (err) {
    if (storeErrorReason(err) === 'NotFound') return undefined;
    throw err;
  }
}

async function createIgnoringExists(store: ObjectStore, resource: string, obj: KubeObject): Promise<void> {
  try {
    await store.create(resource, obj);
  } catch (err) {
    if (storeErrorReason(err) !== 'AlreadyExists') throw err;
  }
}

function prepared<T extends KubeObject>(group: string, plural: string, obj: T): T {
  strategyFor(group, plural)?.prepareForCreate(obj);
  return obj;
}

export async function bootstrap(o: BootstrapOptions): Promise<void> {
  const { store } = o;
  for (const name of SYSTEM_NAMESPACES) {
    if (await getOrUndefined(store, 'namespaces', '', name)) continue;
    await createIgnoringExists(store, 'namespaces', prepared('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  }
  await ensureKubernetesService(o);
  await ensureKubernetesEndpoints(o);
}

async function ensureKubernetesService(o: BootstrapOptions): Promise<void> {
  const existing = (await getOrUndefined(o.store, 'services', 'default', 'kubernetes')) as Service | undefined;
  if (existing) {
    const port = existing.spec.ports?.[0];
    if (port?.targetPort === o.port) return;
    const next = structuredClone(existing);
    next.spec.ports = [{ name: 'https', protocol: 'TCP', port: 443, targetPort: o.port }];
    await o.store.update('services', next);
    return;
  }
  const ip = firstAddress(o.serviceCIDR);
  const svc: Service = prepared('', 'services', {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], sessionAffinity: 'None',
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: o.port }],
    },
  });
  // ipam answers a request for an IP the same owner holds with success, so a retry is safe
  await o.allocator.allocateOnCreate(svc);
  await createIgnoringExists(o.store, 'services', svc);
}

async function ensureKubernetesEndpoints(o: BootstrapOptions): Promise<void> {
  const ports = [{ name: 'https', port: o.port, protocol: 'TCP' as const }];
  const ep: Endpoints = {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: o.advertiseAddress }], ports }],
  };
  await upsert(o.store, 'endpoints', ep, (cur) => JSON.stringify((cur as Endpoints).subsets) === JSON.stringify(ep.subsets));
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: isIPv6(o.advertiseAddress) ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [o.advertiseAddress], conditions: { ready: true } }],
    ports,
  };
  await upsert(o.store, 'discovery.k8s.io/endpointslices', slice,
    (cur) => JSON.stringify([(cur as EndpointSlice).endpoints, (cur as EndpointSlice).ports]) === JSON.stringify([slice.endpoints, slice.ports]));
}

async function upsert(store: ObjectStore, resource: string, obj: KubeObject, same: (cur: KubeObject) => boolean): Promise<void> {
  const cur = await getOrUndefined(store, resource, obj.metadata.namespace ?? '', obj.metadata.name!);
  if (!cur) return createIgnoringExists(store, resource, obj);
  if (same(cur)) return;
  await store.update(resource, { ...structuredClone(obj), metadata: { ...structuredClone(cur.metadata) } });
}
