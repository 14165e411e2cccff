// Which cluster a CLI command talks to: --kubeconfig, else the data dir's, else $KUBECONFIG / ~/.kube/config.
import { existsSync } from 'node:fs';
import { loadKubeconfig, type ClusterConfig } from '@knet/client';
import type { DataDir } from './data-dir.js';
import { CliError } from './cli-error.js';

export async function clusterConfig(dir: DataDir, kubeconfig?: string): Promise<ClusterConfig> {
  const path = kubeconfig ?? (existsSync(dir.kubeconfig) ? dir.kubeconfig : undefined);
  try {
    return await loadKubeconfig(path);
  } catch (err) {
    throw new CliError((err as Error).message, 'start a cluster with `knet up`, or point --kubeconfig at one');
  }
}
