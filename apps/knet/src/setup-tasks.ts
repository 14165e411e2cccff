// `knet up`'s one-shot setup work, run in a worker process (in-worker.ts): what it loads —
// @peculiar/x509 for the certificates, undici and the API client for the bootstrap — goes away with
// the process, so the supervisor, resident for the cluster's life, does not keep it (~25 MiB RSS).
import { dataDir } from './data-dir.js';
import type { ClusterOptions } from './cluster-options.js';

/** ClusterOptions as it crosses to a worker: the data dir by its path. */
export type PortableClusterOptions = Omit<ClusterOptions, 'dataDir'> & { dataDir: string };

export function portable(o: ClusterOptions): PortableClusterOptions {
  return { ...o, dataDir: o.dataDir.root };
}

function local(o: PortableClusterOptions): ClusterOptions {
  return { ...o, dataDir: dataDir(o.dataDir) };
}

export const tasks = {
  /** TLS credentials (created at first start, reused after) and every kubeconfig. */
  async credentials(input: { o: PortableClusterOptions; secure: boolean }) {
    const o = local(input.o);
    if (input.secure) {
      const [{ componentIdentities, ensureClusterCredentials }, { serviceIP }] = await Promise.all([import('@knet/pki'), import('./components.js')]);
      o.credentials = await ensureClusterCredentials(o.dataDir.root, {
        apiserverIPs: [serviceIP(o, 1), o.host],
        apiserverDNSNames: [],
        identities: componentIdentities(),
      });
    }
    (await import('./kubeconfigs.js')).writeKubeconfigs(o);
    return o.credentials;
  },
  /**
   * This machine's Node and the kube-dns Service, once the API answers; with `demo`, the demo's
   * namespace and Service too (one worker, one client load), whose ClusterIP it returns.
   */
  async bootstrap(input: { o: PortableClusterOptions; demo: boolean }): Promise<{ demoClusterIP?: string; demoError?: string }> {
    const o = local(input.o);
    // The demo's objects are written alongside; a failure there is the demo's alone (the cluster runs on).
    const demo = input.demo
      ? (await import('./demo-service.js')).ensureDemoService(o).then(
          (demoClusterIP) => ({ demoClusterIP }),
          (err: unknown) => ({ demoError: err instanceof Error ? err.message : String(err) }),
        )
      : Promise.resolve({});
    await (await import('./cluster-bootstrap.js')).bootstrapCluster(o);
    return demo;
  },
};

export type SetupTasks = typeof tasks;

/** What each task loads, started as soon as its worker is. */
const preload: Partial<Record<keyof SetupTasks, () => Promise<unknown>>> = {
  bootstrap: () => Promise.all([import('./cluster-bootstrap.js'), import('./demo-service.js')]),
};

/** The environment variable that names the task of a worker process (in-worker.ts). */
export const setupTaskEnv = 'KNET_SETUP_TASK';

const send = process.send?.bind(process);
if (send && process.env[setupTaskEnv]) {
  const task = process.env[setupTaskEnv] as keyof SetupTasks;
  delete process.env[setupTaskEnv];
  const loaded = preload[task]?.().catch(() => undefined); // a load error surfaces when the task runs
  process.once('message', (input: unknown) => {
    void (async () => {
      await loaded;
      return tasks[task](input as never);
    })().then(
      (value) => send({ ok: true, value }),
      (err: unknown) => send({ ok: false, message: err instanceof Error ? err.message : String(err) }),
    );
  });
}
