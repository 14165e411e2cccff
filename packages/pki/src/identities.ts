// knet's component identities and their least-privilege ABAC policy (the lines `knet up` writes
// to <dir>/pki/abac-policy.jsonl). Pods are not listed: podAuthorizer() confines them.
import { MASTERS_GROUP } from './authorization.js';
import { policy, type Policy } from './abac.js';
import { PODS_GROUP, podUser } from './pod-identity.js';

export interface Identity {
  /** Key of the identity in knet (file names, the returned tokens map): "admin", "proxy", "pod:ns/name". */
  name: string;
  user: string;
  groups: string[];
  /** Default: the user name. */
  uid?: string;
}

/** The user names knet's components authenticate as (named like Kubernetes' own system users). */
export const KNET_USERS = {
  admin: 'kubernetes-admin',
  controller: 'system:knet:controller',
  proxy: 'system:knet:proxy',
  dns: 'system:knet:dns',
  ipam: 'system:knet:ipam',
  /** CN of the apiserver's client certificate towards ipam. */
  apiserver: 'kube-apiserver',
} as const;

export type ComponentName = 'admin' | 'controller' | 'proxy' | 'dns' | 'ipam';

/** The identities `knet up` creates tokens for. */
export function componentIdentities(): Identity[] {
  return [
    { name: 'admin', user: KNET_USERS.admin, groups: [MASTERS_GROUP] },
    { name: 'controller', user: KNET_USERS.controller, groups: [] },
    { name: 'proxy', user: KNET_USERS.proxy, groups: [] },
    { name: 'dns', user: KNET_USERS.dns, groups: [] },
    { name: 'ipam', user: KNET_USERS.ipam, groups: [] },
  ];
}

/** The identity of one pod run by `knet run`. */
export function podIdentity(namespace: string, name: string): Identity {
  return { name: `pod:${namespace}/${name}`, user: podUser(namespace, name), groups: [PODS_GROUP] };
}

const read = (user: string, resource: string, apiGroup = ''): Policy =>
  policy({ user, namespace: '*', resource, apiGroup, readonly: true });
const write = (user: string, resource: string, apiGroup = ''): Policy => policy({ user, namespace: '*', resource, apiGroup });

/**
 * The policy lines: admin (system:masters) everything; every authenticated user discovery and
 * health paths (Kubernetes' system:discovery / system:public-info-viewer); each component exactly
 * what it reads and writes. Cluster-scoped resources (nodes, namespaces) match namespace "*".
 */
export function knetPolicies(): Policy[] {
  const u = KNET_USERS;
  return [
    policy({ group: MASTERS_GROUP, namespace: '*', resource: '*', apiGroup: '*' }),
    policy({ group: MASTERS_GROUP, nonResourcePath: '*' }),
    // discovery, OpenAPI, version and health for every authenticated user
    ...['/api', '/api/*', '/apis', '/apis/*', '/openapi/*', '/version', '/healthz', '/livez', '/readyz'].map((p) =>
      policy({ group: 'system:authenticated', nonResourcePath: p, readonly: true })),
    // controller: Endpoints and EndpointSlices from Pods and Services, and Service status
    read(u.controller, 'services'), read(u.controller, 'pods'), read(u.controller, 'nodes'),
    read(u.controller, 'namespaces'),
    write(u.controller, 'endpoints'),
    write(u.controller, 'endpointslices', 'discovery.k8s.io'),
    write(u.controller, 'services/status'),
    // proxy: the data plane of its node
    read(u.proxy, 'services'), read(u.proxy, 'endpointslices', 'discovery.k8s.io'), read(u.proxy, 'nodes'),
    read(u.proxy, 'endpoints'),
    // dns: the cluster zone
    read(u.dns, 'services'), read(u.dns, 'endpointslices', 'discovery.k8s.io'), read(u.dns, 'pods'), read(u.dns, 'namespaces'),
    // ipam: repair compares allocations with Services
    read(u.ipam, 'services'),
  ];
}
