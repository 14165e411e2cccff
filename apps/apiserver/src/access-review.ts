// authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview: what `kubectl auth
// can-i` asks. Pure: a decoded body + the requesting user + the authorizers → the review to return.
import { authorizeChain, rulesOf, type Attributes, type Authorizer, type UserInfo } from '@knet/pki';
import type { Status } from '@knet/api';
import { isPlainObject } from './body.js';
import { failure } from './status.js';

export const AUTHZ_GROUP = 'authorization.k8s.io';
export const AUTHZ_GROUP_VERSION = `${AUTHZ_GROUP}/v1`;
export const REVIEW_RESOURCES = ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] as const;

export function authorizationGroup(): object {
  const v = { groupVersion: AUTHZ_GROUP_VERSION, version: 'v1' };
  return { name: AUTHZ_GROUP, versions: [v], preferredVersion: v };
}

export function authorizationResourceList(): object {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: AUTHZ_GROUP_VERSION,
    resources: [
      { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
      { name: 'selfsubjectrulesreviews', singularName: 'selfsubjectrulesreview', namespaced: false, kind: 'SelfSubjectRulesReview', verbs: ['create'] },
    ],
  };
}

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');

function invalid(kind: string, field: string, message: string): Status {
  return failure(422, 'Invalid', `${kind}.authorization.k8s.io "" is invalid: ${field}: ${message}`, {
    group: AUTHZ_GROUP, kind, causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

function checkKind(body: Record<string, unknown>, kind: string): Status | undefined {
  if (body['kind'] !== undefined && body['kind'] !== kind) return failure(400, 'BadRequest', `${String(body['kind'])} cannot be handled as a ${kind}`);
  if (body['apiVersion'] !== undefined && body['apiVersion'] !== AUTHZ_GROUP_VERSION) {
    return failure(400, 'BadRequest', `the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${AUTHZ_GROUP_VERSION})`);
  }
  return undefined;
}

/** The spec of a review request body of the given kind, or the Status that rejects the body. */
function reviewSpec(body: unknown, kind: string): { spec: Record<string, unknown> } | { error: Status } {
  if (!isPlainObject(body)) return { error: failure(400, 'BadRequest', `the body must be a ${kind} object`) };
  const bad = checkKind(body, kind);
  if (bad) return { error: bad };
  return { spec: isPlainObject(body['spec']) ? body['spec'] : {} };
}

/** Returns the review with its status filled in, or a Status error. */
export function selfSubjectAccessReview(body: unknown, user: UserInfo, authorizers: Authorizer[]): { review: object } | { error: Status } {
  const kind = 'SelfSubjectAccessReview';
  const parsed = reviewSpec(body, kind);
  if ('error' in parsed) return parsed;
  const { spec } = parsed;
  const ra = isPlainObject(spec['resourceAttributes']) ? spec['resourceAttributes'] : undefined;
  const nra = isPlainObject(spec['nonResourceAttributes']) ? spec['nonResourceAttributes'] : undefined;
  if ((ra === undefined) === (nra === undefined)) {
    return { error: invalid(kind, 'spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified') };
  }
  let attrs: Attributes;
  if (ra) {
    const sub = str(ra, 'subresource');
    const name = str(ra, 'name');
    attrs = {
      user, verb: str(ra, 'verb'), resourceRequest: true, namespace: str(ra, 'namespace'), apiGroup: str(ra, 'group'), resource: str(ra, 'resource'),
      ...(sub ? { subresource: sub } : {}), ...(name ? { name } : {}),
    };
  } else {
    attrs = { user, verb: str(nra!, 'verb'), resourceRequest: false, path: str(nra!, 'path') };
  }
  const allowed = authorizeChain(authorizers, attrs);
  const status: Record<string, unknown> = { allowed };
  return { review: { kind, apiVersion: AUTHZ_GROUP_VERSION, metadata: { creationTimestamp: null }, spec, status } };
}

export function selfSubjectRulesReview(body: unknown, user: UserInfo, authorizers: Authorizer[]): { review: object } | { error: Status } {
  const kind = 'SelfSubjectRulesReview';
  const parsed = reviewSpec(body, kind);
  if ('error' in parsed) return parsed;
  const { spec } = parsed;
  const namespace = str(spec, 'namespace');
  const rules = rulesOf(authorizers, user, namespace);
  return {
    review: {
      kind, apiVersion: AUTHZ_GROUP_VERSION, metadata: { creationTimestamp: null }, spec: { namespace },
      status: { ...rules, incomplete: false },
    },
  };
}
