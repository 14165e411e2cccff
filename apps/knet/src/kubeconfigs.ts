// The kubeconfigs `knet up` writes: the admin's (<data-dir>/kubeconfig) and one per component.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
// The subpath: writing a kubeconfig needs neither undici nor the rest of the client.
import { kubeconfigJson, kubeconfigYaml } from '@knet/client/kubeconfig';
import type { ClusterConfig } from '@knet/client';
import { apiserverURL, componentKubeconfig, type ClusterOptions } from './components.js';

export const clusterComponentsWithKubeconfigs = ['controller', 'dns', 'proxy'] as const;

/** How `identity` reaches the apiserver: its URL, the cluster CA, its token. */
export function identityConfig(o: ClusterOptions, identity: string): ClusterConfig {
  const c = o.credentials;
  return { server: apiserverURL(o), ...(c ? { caData: c.caPem, token: c.tokens[identity] } : {}) };
}

function writeKubeconfig(path: string, o: ClusterOptions, identity: string, format: typeof kubeconfigYaml): void {
  mkdirSync(dirname(path), { recursive: true });
  const { server, caData, token } = identityConfig(o, identity);
  writeFileSync(path, format({ server, cluster: 'knet', user: identity, ...(caData ? { caData } : {}), ...(token ? { token } : {}) }), { mode: 0o600 });
}

/**
 * The admin's kubeconfig in YAML, for people; the components' in JSON, which kubectl reads as well: a component
 * then never loads a YAML parser (~1.5 MiB of each idle process, towards issue #6's memory target).
 */
export function writeKubeconfigs(o: ClusterOptions): void {
  writeKubeconfig(o.dataDir.kubeconfig, o, 'admin', kubeconfigYaml);
  for (const c of clusterComponentsWithKubeconfigs) writeKubeconfig(componentKubeconfig(o, c), o, c, kubeconfigJson);
}
