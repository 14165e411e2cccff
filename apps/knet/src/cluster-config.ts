// Which cluster a CLI command talks to: --kubeconfig, else the data dir's, else $KUBECONFIG / ~/.kube/config.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeconfig, type ClusterConfig } from '@knet/client';
import { ensureIdentities, podIdentity } from '@knet/pki';
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

/**
 * A `knet run` pod talks to the API as itself (it may touch only its own Pod), like a kubelet's
 * pods with their service account: on a local cluster its token is added to the data dir's
 * token file. Elsewhere (a kubeconfig without the cluster's data dir) the kubeconfig's identity is used.
 */
export async function podClusterConfig(dir: DataDir, base: ClusterConfig, namespace: string, name: string): Promise<ClusterConfig> {
  if (!base.token || !existsSync(join(dir.root, 'pki', 'tokens.csv'))) return base;
  const identity = podIdentity(namespace, name);
  const tokens = await ensureIdentities(dir.root, [identity]);
  return { ...base, token: tokens[identity.name] };
}
