// `npm start`'s demo: a `database` Service (its manifest has no `type`) in namespace `production`,
// with two echo pods behind it, and what to try next.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serviceIP, type ClusterOptions } from './components.js';

const knetBin = fileURLToPath(new URL('../bin/knet.js', import.meta.url));
const echoServer = fileURLToPath(new URL('./demo/echo-server.js', import.meta.url));

export interface Demo {
  /** What to try, for the user once the cluster is up. */
  instructions: string;
  stop(): Promise<void>;
}

/**
 * Starts the two pods behind the demo Service (ensureDemoService made it; the Node is registered);
 * they get ready as the controller and proxy come up.
 */
export function startDemo(o: ClusterOptions, clusterIP: string, log: (fields: Record<string, unknown>) => void): Demo {
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
  return {
    instructions: [
      'Demo: Service production/database (no type in its manifest → ClusterIP) in front of two pods.',
      'Try:',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get svc,endpoints,endpointslices -n production',
      `  dig @${serviceIP(o, 10)} database.production.svc.cluster.local +short   (or: dig @${o.host} -p ${o.dnsPort} ...)`,
      `  curl http://${clusterIP}/        (run it a few times: both pods answer)`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
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
