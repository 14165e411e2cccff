import test from 'ava';
import { abacAuthorizer, parsePolicyFile, policy, PolicyFileError, type PolicySpec } from './abac.js';
import { authorizeChain, forbiddenMessage, type Attributes } from './authorization.js';
import { knetPolicies, KNET_USERS } from './identities.js';

const alice = { name: 'alice', groups: ['dev', 'system:authenticated'] };
const res = (verb: string, resource: string, namespace = 'default', extra: Partial<Attributes> = {}): Attributes =>
  ({ user: alice, verb, resourceRequest: true, namespace, apiGroup: '', resource, ...extra });
const path = (verb: string, p: string): Attributes => ({ user: alice, verb, resourceRequest: false, path: p });

const table: [string, PolicySpec, Attributes, boolean][] = [
  ['user match, all resources', { user: 'alice', namespace: '*', resource: '*', apiGroup: '*' }, res('delete', 'services'), true],
  ['other user', { user: 'bob', namespace: '*', resource: '*', apiGroup: '*' }, res('get', 'services'), false],
  ['user "*"', { user: '*', namespace: '*', resource: '*', apiGroup: '*' }, res('get', 'services'), true],
  ['group match', { group: 'dev', namespace: '*', resource: '*', apiGroup: '*' }, res('get', 'pods'), true],
  ['group mismatch', { group: 'ops', namespace: '*', resource: '*', apiGroup: '*' }, res('get', 'pods'), false],
  ['user and group must both match', { user: 'alice', group: 'ops', namespace: '*', resource: '*', apiGroup: '*' }, res('get', 'pods'), false],
  ['readonly allows get', { user: 'alice', namespace: '*', resource: 'services', readonly: true }, res('get', 'services'), true],
  ['readonly allows list', { user: 'alice', namespace: '*', resource: 'services', readonly: true }, res('list', 'services'), true],
  ['readonly allows watch', { user: 'alice', namespace: '*', resource: 'services', readonly: true }, res('watch', 'services'), true],
  ['readonly denies create', { user: 'alice', namespace: '*', resource: 'services', readonly: true }, res('create', 'services'), false],
  ['readonly denies patch', { user: 'alice', namespace: '*', resource: 'services', readonly: true }, res('patch', 'services'), false],
  ['namespace exact', { user: 'alice', namespace: 'prod', resource: 'services' }, res('get', 'services', 'prod'), true],
  ['namespace other', { user: 'alice', namespace: 'prod', resource: 'services' }, res('get', 'services', 'default'), false],
  ['no namespace = cluster scope only', { user: 'alice', resource: 'nodes' }, res('get', 'nodes', ''), true],
  ['no namespace does not match a namespace', { user: 'alice', resource: 'services' }, res('get', 'services', 'default'), false],
  ['apiGroup defaults to core', { user: 'alice', namespace: '*', resource: 'endpointslices' },
    res('get', 'endpointslices', 'default', { apiGroup: 'discovery.k8s.io' }), false],
  ['apiGroup match', { user: 'alice', namespace: '*', resource: 'endpointslices', apiGroup: 'discovery.k8s.io' },
    res('get', 'endpointslices', 'default', { apiGroup: 'discovery.k8s.io' }), true],
  ['resource covers its subresources (as Kubernetes)', { user: 'alice', namespace: '*', resource: 'services' },
    res('update', 'services', 'default', { subresource: 'status', name: 'x' }), true],
  ['knet: resource/subresource matches only that subresource', { user: 'alice', namespace: '*', resource: 'services/status' },
    res('update', 'services', 'default', { subresource: 'status', name: 'x' }), true],
  ['knet: resource/subresource does not match the main resource', { user: 'alice', namespace: '*', resource: 'services/status' },
    res('update', 'services', 'default', { name: 'x' }), false],
  ['resource policy does not match a path', { user: 'alice', namespace: '*', resource: '*', apiGroup: '*' }, path('get', '/version'), false],
  ['path "*"', { user: 'alice', nonResourcePath: '*' }, path('get', '/metrics'), true],
  ['path exact', { user: 'alice', nonResourcePath: '/version' }, path('get', '/version'), true],
  ['path exact mismatch', { user: 'alice', nonResourcePath: '/version' }, path('get', '/versions'), false],
  ['path prefix', { user: 'alice', nonResourcePath: '/apis/*' }, path('get', '/apis/discovery.k8s.io/v1'), true],
  ['path prefix mismatch', { user: 'alice', nonResourcePath: '/apis/*' }, path('get', '/api/v1'), false],
  ['path readonly denies post', { user: 'alice', nonResourcePath: '*', readonly: true }, path('post', '/api'), false],
  ['path policy does not match a resource', { user: 'alice', nonResourcePath: '*' }, res('get', 'services'), false],
];
for (const [name, spec, attrs, want] of table) {
  test(`abac: ${name}`, (t) => t.is(authorizeChain([abacAuthorizer([policy(spec)])], attrs), want));
}

test('parsePolicyFile reads Kubernetes policy lines, skipping comments and blank lines', (t) => {
  const text = [
    '# admin',
    '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "admin", "namespace": "*", "resource": "*", "apiGroup": "*"}}',
    '',
    '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:authenticated", "readonly": true, "nonResourcePath": "*"}}',
  ].join('\n');
  t.deepEqual(parsePolicyFile(text).map((p) => p.spec), [
    { user: 'admin', namespace: '*', resource: '*', apiGroup: '*' },
    { group: 'system:authenticated', readonly: true, nonResourcePath: '*' },
  ]);
});

const badPolicies: [string, string, RegExp][] = [
  ['not JSON', '{nope', /^line 1: not JSON/],
  ['wrong apiVersion', '{"apiVersion":"v1","kind":"Policy","spec":{"user":"a"}}', /^line 1: apiVersion must be "abac.authorization.kubernetes.io\/v1beta1", got "v1"$/],
  ['wrong kind', '{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Role","spec":{"user":"a"}}', /kind must be "Policy"/],
  ['misspelt field', '\n{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"a","readOnly":true}}', /^line 2: unknown field spec.readOnly/],
  ['readonly not boolean', '{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"a","readonly":"true"}}', /spec.readonly must be true or false/],
  ['no subject', '{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"resource":"*"}}', /needs a user or a group/],
  ['both kinds', '{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"a","resource":"*","nonResourcePath":"*"}}', /either for resources/],
];
for (const [name, text, want] of badPolicies) {
  test(`parsePolicyFile rejects: ${name}`, (t) => {
    const err = t.throws(() => parsePolicyFile(text), { instanceOf: PolicyFileError });
    t.regex(err!.message, want);
  });
}

test('forbidden messages are worded as kube-apiserver words them', (t) => {
  const x = { name: 'x', groups: [] };
  t.is(forbiddenMessage({ user: x, verb: 'list', resourceRequest: true, namespace: 'default', apiGroup: '', resource: 'services' }),
    'services is forbidden: User "x" cannot list resource "services" in API group "" in the namespace "default"');
  t.is(forbiddenMessage({ user: x, verb: 'get', resourceRequest: true, namespace: 'default', apiGroup: '', resource: 'services', name: 'web' }),
    'services "web" is forbidden: User "x" cannot get resource "services" in API group "" in the namespace "default"');
  t.is(forbiddenMessage({ user: x, verb: 'patch', resourceRequest: true, namespace: 'ns', apiGroup: '', resource: 'pods', subresource: 'status', name: 'p' }),
    'pods "p" is forbidden: User "x" cannot patch resource "pods/status" in API group "" in the namespace "ns"');
  t.is(forbiddenMessage({ user: x, verb: 'list', resourceRequest: true, namespace: '', apiGroup: '', resource: 'nodes' }),
    'nodes is forbidden: User "x" cannot list resource "nodes" in API group "" at the cluster scope');
  t.is(forbiddenMessage({ user: x, verb: 'create', resourceRequest: true, namespace: 'd', apiGroup: 'discovery.k8s.io', resource: 'endpointslices' }),
    'endpointslices.discovery.k8s.io is forbidden: User "x" cannot create resource "endpointslices" in API group "discovery.k8s.io" in the namespace "d"');
  t.is(forbiddenMessage({ user: x, verb: 'get', resourceRequest: false, path: '/metrics' }), 'forbidden: User "x" cannot get path "/metrics"');
});

// the generated policy, as each component uses it
const u = (name: string, groups: string[] = []) => ({ name, groups: [...groups, 'system:authenticated'] });
const r = (user: ReturnType<typeof u>, verb: string, resource: string, namespace = 'default', apiGroup = '', subresource?: string): Attributes =>
  ({ user, verb, resourceRequest: true, namespace, apiGroup, resource, ...(subresource ? { subresource, name: 'x' } : {}) });
const knet: [string, Attributes, boolean][] = [
  ['admin deletes nodes', r(u(KNET_USERS.admin, ['system:masters']), 'delete', 'nodes', ''), true],
  ['admin reads /metrics', { user: u(KNET_USERS.admin, ['system:masters']), verb: 'get', resourceRequest: false, path: '/metrics' }, true],
  ['controller lists pods', r(u(KNET_USERS.controller), 'list', 'pods', ''), true],
  ['controller writes endpoints', r(u(KNET_USERS.controller), 'update', 'endpoints'), true],
  ['controller creates endpointslices', r(u(KNET_USERS.controller), 'create', 'endpointslices', 'ns', 'discovery.k8s.io'), true],
  ['controller updates services/status', r(u(KNET_USERS.controller), 'update', 'services', 'default', '', 'status'), true],
  ['controller cannot update a service spec', r(u(KNET_USERS.controller), 'update', 'services'), false],
  ['controller cannot write pods', r(u(KNET_USERS.controller), 'patch', 'pods'), false],
  ['proxy watches endpointslices', r(u(KNET_USERS.proxy), 'watch', 'endpointslices', '', 'discovery.k8s.io'), true],
  ['proxy reads nodes', r(u(KNET_USERS.proxy), 'get', 'nodes', ''), true],
  ['proxy cannot write services', r(u(KNET_USERS.proxy), 'create', 'services'), false],
  ['dns lists pods', r(u(KNET_USERS.dns), 'list', 'pods', ''), true],
  ['dns cannot write endpointslices', r(u(KNET_USERS.dns), 'create', 'endpointslices', 'default', 'discovery.k8s.io'), false],
  ['ipam lists services', r(u(KNET_USERS.ipam), 'list', 'services', ''), true],
  ['ipam cannot read pods', r(u(KNET_USERS.ipam), 'list', 'pods', ''), false],
  ['anyone authenticated reads discovery', { user: u('someone'), verb: 'get', resourceRequest: false, path: '/apis/discovery.k8s.io/v1' }, true],
  ['someone cannot read /metrics', { user: u('someone'), verb: 'get', resourceRequest: false, path: '/metrics' }, false],
  ['someone cannot list services', r(u('someone'), 'list', 'services'), false],
];
for (const [name, attrs, want] of knet) {
  test(`knet policy: ${name}`, (t) => t.is(authorizeChain([abacAuthorizer(knetPolicies())], attrs), want));
}
