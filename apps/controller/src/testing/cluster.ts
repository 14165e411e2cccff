// REST helpers for the integration tests: namespaces, Pods with a status, lookups.
import type { EndpointSlice, Endpoints, KubeObject, Pod, Service } from '@knet/api';
import type { ExecutionContext } from 'ava';
import { KubeClient, isConflict, isNotFound, resources, type ResourceRef } from '@knet/client';
import { startControlPlane, type ControlPlane } from '@knet/apiserver-app/testing';

export class TestCluster {
  private nsCounter = 0;
  constructor(readonly client: KubeClient) {}

  async namespace(prefix = 't'): Promise<string> {
    const name = `${prefix}${process.pid}-${++this.nsCounter}`;
    await this.client.create(resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }

  /** Creates a Pod, then writes its status (the apiserver resets status on create, as Kubernetes does). */
  async createPod(ns: string, name: string, ip: string, ready: boolean, labels: Record<string, string> = { app: 'web' }, containerPort = 8080): Promise<Pod> {
    await this.client.create<Pod>(resources.pods, ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort }] }] },
    });
    return this.setReady(ns, name, ip, ready);
  }

  async setReady(ns: string, name: string, ip: string, ready: boolean): Promise<Pod> {
    for (;;) {
      const cur = await this.client.get<Pod>(resources.pods, ns, name);
      cur.status = {
        ...cur.status,
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString() }],
      };
      try {
        return await this.client.update<Pod>(resources.pods, ns, cur, { subresource: 'status' });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  async get<T extends KubeObject>(r: ResourceRef, ns: string, name: string): Promise<T | undefined> {
    try {
      return await this.client.get<T>(r, ns, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  endpoints(ns: string, name: string): Promise<Endpoints | undefined> {
    return this.get<Endpoints>(resources.endpoints, ns, name);
  }

  async slices(ns: string, svc: string): Promise<EndpointSlice[]> {
    const list = await this.client.list<EndpointSlice>(resources.endpointslices, { namespace: ns, labelSelector: `kubernetes.io/service-name=${svc}` });
    return list.items;
  }
}

export function service(ns: string, name: string, spec: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { tier: 'front' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
  };
}

export const readyIPs = (ep: Endpoints | undefined): string[] => (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
export const notReadyIPs = (ep: Endpoints | undefined): string[] => (ep?.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)).sort();

/** A control plane of one test's own, with a client and a TestCluster on it; the test's teardown stops them. */
export async function controlPlaneFor(t: ExecutionContext): Promise<{ cp: ControlPlane; client: KubeClient; c: TestCluster }> {
  const cp = await startControlPlane();
  t.teardown(() => cp.stop());
  const client = new KubeClient({ server: cp.url });
  t.teardown(() => client.close());
  return { cp, client, c: new TestCluster(client) };
}
