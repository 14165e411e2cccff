// The demo's API objects: namespace `production` and the `database` Service (its manifest has no `type`).
import { KubeClient, resources, isAlreadyExists } from '@knet/client';
import type { Namespace, Service } from '@knet/api';
import type { ClusterOptions } from './cluster-options.js';
import { identityConfig } from './kubeconfigs.js';

const databaseService: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'database', namespace: 'production' },
  spec: { selector: { app: 'database' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

/** Creates them unless they exist; returns the Service's ClusterIP. */
export async function ensureDemoService(o: ClusterOptions): Promise<string> {
  const client = new KubeClient(identityConfig(o, 'admin'));
  try {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'production' } };
    await client.create(resources.namespaces, undefined, ns).catch((err) => {
      if (!isAlreadyExists(err)) throw err;
    });
    const svc = await client.create(resources.services, 'production', databaseService).catch(async (err) => {
      if (!isAlreadyExists(err)) throw err;
      return client.get<Service>(resources.services, 'production', 'database');
    });
    return svc.spec.clusterIP!;
  } finally {
    await client.close();
  }
}
