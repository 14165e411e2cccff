// `npm start`'s demo: a `database` Service (its manifest has no `type`) in namespace `production`,
// with two echo pods behind it, and what to try next.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeClient, resources, isAlreadyExists } from '@knet/client';
import type { Namespace, Service } from '@knet/api';
import { serviceIP, type ClusterOptions } from './components.js';
import { identityConfig } from './cluster-bootstrap.js';

const knetBin = fileURLToPath(new URL('../bin/knet.js', import.meta.url));
const echoServer = fileURLToPath(new URL('./demo/echo-server.js', import.meta.url));

const databaseService: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'database', namespace: 'production' },
  spec: { selector: { app: 'database' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

export interface Demo {
  stop(): Promise<void>;
}

export async function startDemo(o: ClusterOptions, log: (fields: Record<string, unknown>) => void): Promise<Demo> {
  const client = new KubeClient(identityConfig(o, 'admin'));
  let clusterIP: string;
  try {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'production' } };
    await client.create(resources.namespaces, undefined, ns).catch((err) => {
      if (!isAlreadyExists(err)) throw err;
    });
    const svc = await client.create(resources.services, 'production', databaseService).catch(async (err) => {
      if (!isAlreadyExists(err)) throw err;
      return client.get<Service>(resources.services, 'production', 'database');
    });
    clusterIP = svc.spec.clusterIP!;
  } finally {
    await client.close();
  }
  const pods: ChildProcess[] = ['database-1', 'database-2'].map((name) => {
    const child = spawn(
      process.execPath,
      [knetBin, 'run', name, '-n', 'production', '-l', 'app=database', '-p', 'http:8080', '--readiness', 'http:/', '--data-dir', o.dataDir.root, '--', process.execPath, echoServer],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (d: Buffer) => log({ msg: 'demo pod', pod: name, output: d.toString().trim() }));
    return child;
  });
  const kubeconfig = o.dataDir.kubeconfig;
  process.stdout.write(
    [
      'Demo: Service production/database (no type in its manifest → ClusterIP) in front of two pods.',
      'Try:',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get svc,endpoints,endpointslices -n production',
      `  dig @${serviceIP(o, 10)} database.production.svc.cluster.local +short   (or: dig @${o.host} -p ${o.dnsPort} ...)`,
      `  curl http://${clusterIP}/        (run it a few times: both pods answer)`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  return {
    async stop() {
      await Promise.all(
        pods.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
