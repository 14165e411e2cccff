// knet's pod identities and the rule that confines them, in the spirit of Kubernetes' Node
// authorizer + NodeRestriction admission: user `system:pod:<namespace>:<name>` in group
// `system:pods` may read, update, patch and delete only its own Pod (and its status), create it,
// read Services and Endpoints of its namespace plus default/kubernetes, and read Nodes (`knet run`
// is the pod's one-pod kubelet and picks its Node, as a kubelet reads its own). Nothing else.
import type { Attributes, Authorizer, Rules, UserInfo } from './authorization.js';

export const PODS_GROUP = 'system:pods';
const PREFIX = 'system:pod:';

export function podUser(namespace: string, name: string): string {
  return `${PREFIX}${namespace}:${name}`;
}

/** The pod a user name stands for, or undefined for any other user. */
export function parsePodUser(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(PREFIX)) return undefined;
  const rest = user.slice(PREFIX.length);
  const i = rest.indexOf(':');
  if (i <= 0 || i === rest.length - 1) return undefined;
  return { namespace: rest.slice(0, i), name: rest.slice(i + 1) };
}

// list/watch carry a name when narrowed by fieldSelector=metadata.name=<name>, as kube-apiserver derives it
const OWN_POD_VERBS = new Set(['get', 'list', 'watch', 'update', 'patch', 'delete']);
const READ_VERBS = new Set(['get', 'list', 'watch']);

/**
 * Allows what a pod identity may do and has no opinion otherwise (other authorizers still apply
 * to other users; for pod users nothing else in knet's policy grants anything).
 * A create is allowed here with the name unknown; `admitPodCreate` checks the body's name.
 */
export function podAuthorizer(): Authorizer {
  return {
    name: 'Pod',
    authorize(a: Attributes) {
      if (!a.user.groups.includes(PODS_GROUP)) return 'no-opinion';
      const self = parsePodUser(a.user.name);
      if (!self || !a.resourceRequest || (a.apiGroup ?? '') !== '') return 'no-opinion';
      const { resource, namespace, name, subresource, verb } = a;
      if (resource === 'pods' && namespace === self.namespace) {
        if (verb === 'create' && !subresource) return 'allow';
        if (name === self.name && OWN_POD_VERBS.has(verb) && (subresource === undefined || subresource === 'status')) return 'allow';
        return 'no-opinion';
      }
      if (resource === 'nodes' && !subresource && (verb === 'get' || verb === 'list')) return 'allow';
      if ((resource === 'services' || resource === 'endpoints') && !subresource && READ_VERBS.has(verb)) {
        if (namespace === self.namespace) return 'allow';
        if (namespace === 'default' && name === 'kubernetes' && verb === 'get') return 'allow';
      }
      return 'no-opinion';
    },
    rules(user: UserInfo, namespace: string): Rules {
      const self = user.groups.includes(PODS_GROUP) ? parsePodUser(user.name) : undefined;
      if (!self) return { resourceRules: [], nonResourceRules: [] };
      const resourceRules: Rules['resourceRules'] = [];
      if (namespace === self.namespace) {
        resourceRules.push(
          { verbs: [...OWN_POD_VERBS], apiGroups: [''], resources: ['pods', 'pods/status'], resourceNames: [self.name] },
          { verbs: ['create'], apiGroups: [''], resources: ['pods'] },
          { verbs: [...READ_VERBS], apiGroups: [''], resources: ['services', 'endpoints'] },
        );
      }
      resourceRules.push({ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] });
      if (namespace === 'default') resourceRules.push({ verbs: ['get'], apiGroups: [''], resources: ['services', 'endpoints'], resourceNames: ['kubernetes'] });
      return { resourceRules, nonResourceRules: [] };
    },
  };
}

/** Admission for a pod identity's create: the Pod must be its own. Returns an error message or undefined. */
export function admitPodCreate(user: { name: string; groups: string[] }, namespace: string, podName: string | undefined): string | undefined {
  if (!user.groups.includes(PODS_GROUP)) return undefined;
  const self = parsePodUser(user.name);
  if (!self) return undefined;
  if (self.namespace === namespace && self.name === podName) return undefined;
  return `pod identity ${JSON.stringify(user.name)} may only create its own pod ${self.namespace}/${self.name}`;
}
