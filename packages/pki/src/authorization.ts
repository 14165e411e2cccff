// Who is asking to do what: Kubernetes' authorizer.Attributes, the users Kubernetes reserves,
// and the Forbidden message kube-apiserver writes when every authorizer says no.

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
}

export interface Attributes {
  user: UserInfo;
  /** get list watch create update patch delete deletecollection; for paths the lower-case HTTP method. */
  verb: string;
  resourceRequest: boolean;
  /** Resource requests: '' for cluster-scoped. */
  namespace?: string;
  apiGroup?: string;
  /** Plural, without the subresource ("pods"). */
  resource?: string;
  subresource?: string;
  /** Empty for collections and for create (the name is in the body). */
  name?: string;
  /** Non-resource requests: the URL path. */
  path?: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

/** authorization.k8s.io/v1 ResourceRule / NonResourceRule, for SelfSubjectRulesReview. */
export interface ResourceRule { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] }
export interface NonResourceRule { verbs: string[]; nonResourceURLs: string[] }
export interface Rules { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[] }

export interface Authorizer {
  readonly name: string;
  authorize(a: Attributes): Decision;
  /** What the user may do in a namespace (kubectl auth can-i --list). */
  rules(user: UserInfo, namespace: string): Rules;
}

export const ANONYMOUS_USER = 'system:anonymous';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const AUTHENTICATED_GROUP = 'system:authenticated';
/** Members may do anything and bypass request limits, as in Kubernetes. */
export const MASTERS_GROUP = 'system:masters';

const READ_ONLY_VERBS = new Set(['get', 'list', 'watch']);

export function isReadOnly(a: Attributes): boolean {
  return READ_ONLY_VERBS.has(a.verb);
}

/** Authorizers in order; the first that allows or denies decides; none → deny (kube-apiserver's union). */
export function authorizeChain(authorizers: Authorizer[], a: Attributes): boolean {
  for (const z of authorizers) {
    const d = z.authorize(a);
    if (d !== 'no-opinion') return d === 'allow';
  }
  return false;
}

export const alwaysAllow: Authorizer = {
  name: 'AlwaysAllow',
  authorize: () => 'allow',
  rules: () => ({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] }),
};
export const alwaysDeny: Authorizer = { name: 'AlwaysDeny', authorize: () => 'no-opinion', rules: () => ({ resourceRules: [], nonResourceRules: [] }) };

export function rulesOf(authorizers: Authorizer[], user: UserInfo, namespace: string): Rules {
  const out: Rules = { resourceRules: [], nonResourceRules: [] };
  for (const z of authorizers) {
    const r = z.rules(user, namespace);
    out.resourceRules.push(...r.resourceRules);
    out.nonResourceRules.push(...r.nonResourceRules);
  }
  return out;
}

/** The part after `X is forbidden: `, worded as kube-apiserver's forbiddenMessage. */
export function forbiddenReason(a: Attributes): string {
  const user = a.user.name;
  if (!a.resourceRequest) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${where}`;
}

/** The whole Status message: `services "x" is forbidden: User ...` / `forbidden: User ... path`. */
export function forbiddenMessage(a: Attributes): string {
  if (!a.resourceRequest) return `forbidden: ${forbiddenReason(a)}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource ?? '';
  return a.name ? `${qualified} ${JSON.stringify(a.name)} is forbidden: ${forbiddenReason(a)}` : `${qualified} is forbidden: ${forbiddenReason(a)}`;
}
