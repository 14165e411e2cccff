import test from 'ava';
import { abacAuthorizer, alwaysAllow, podAuthorizer, policy, PODS_GROUP, podUser } from '@knet/pki';
import { selfSubjectAccessReview, selfSubjectRulesReview } from './access-review.js';
import { nameFromFieldSelector, pathAttributes, resourceAttributes, resourceVerb } from './request-attributes.js';
import { RequestLimits } from './request-limits.js';
import { isLoopback, planSecurity, type SecurityFlags } from './security-flags.js';

const user = { name: 'u', groups: ['system:authenticated'] };

const verbs: [string, boolean, string, string][] = [
  ['GET', true, '', 'get'],
  ['GET', false, '', 'list'],
  ['GET', false, 'watch=1', 'watch'],
  ['GET', true, 'watch=true', 'watch'],
  ['HEAD', true, '', 'get'],
  ['POST', false, '', 'create'],
  ['PUT', true, '', 'update'],
  ['PATCH', true, '', 'patch'],
  ['DELETE', true, '', 'delete'],
  ['DELETE', false, '', 'deletecollection'],
];
for (const [method, named, q, want] of verbs) {
  test(`resourceVerb ${method} ${named ? 'named' : 'collection'} ${q}`, (t) => t.is(resourceVerb(method, named, new URLSearchParams(q)), want));
}

test('resourceAttributes as RequestInfo resolves them', (t) => {
  t.deepEqual(resourceAttributes(user, 'PATCH', { group: '', version: 'v1', plural: 'pods', namespace: 'ns', name: 'p', subresource: 'status' }, new URLSearchParams()),
    { user, verb: 'patch', resourceRequest: true, namespace: 'ns', apiGroup: '', resource: 'pods', subresource: 'status', name: 'p' });
  t.like(resourceAttributes(user, 'GET', { group: '', version: 'v1', plural: 'pods', namespace: 'ns' }, new URLSearchParams('watch=1&fieldSelector=metadata.name%3Dp')),
    { verb: 'watch', name: 'p' });
  t.like(resourceAttributes(user, 'GET', { group: '', version: 'v1', plural: 'namespaces', name: 'kube-system' }, new URLSearchParams()),
    { verb: 'get', namespace: 'kube-system', resource: 'namespaces', name: 'kube-system' });
  t.like(resourceAttributes(user, 'GET', { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' }, new URLSearchParams()),
    { verb: 'list', namespace: '', apiGroup: 'discovery.k8s.io' });
  t.deepEqual(pathAttributes(user, 'GET', '/metrics'), { user, verb: 'get', resourceRequest: false, path: '/metrics' });
});

const selectors: [string | null, string | undefined][] = [
  [null, undefined], ['', undefined], ['metadata.name=a', 'a'], ['metadata.name==a', 'a'], ['spec.nodeName=n,metadata.name=b', 'b'],
  ['metadata.name!=a', undefined], ['metadata.namespace=x', undefined],
];
for (const [fs, want] of selectors) test(`nameFromFieldSelector ${String(fs)}`, (t) => t.is(nameFromFieldSelector(fs), want));

const base: SecurityFlags = { listenHost: '127.0.0.1', authorizationMode: 'AlwaysAllow' };
const plans: [string, Partial<SecurityFlags>, object | RegExp][] = [
  ['defaults: plain HTTP on loopback, no authentication, AlwaysAllow', {}, { authenticate: false, anonymous: false, authorizers: ['AlwaysAllow'] }],
  ['explicit --insecure-plain-http on ::1', { listenHost: '::1', insecurePlainHttp: true }, { authenticate: false }],
  ['plain HTTP on 0.0.0.0 refused', { listenHost: '0.0.0.0' }, /refusing to serve plain HTTP on 0\.0\.0\.0/],
  ['--insecure-plain-http on a routable address refused', { listenHost: '192.0.2.1', insecurePlainHttp: true }, /not a loopback address/],
  ['TLS anywhere', { listenHost: '0.0.0.0', tlsCertFile: 'c', tlsPrivateKeyFile: 'k' }, { tls: { certFile: 'c', keyFile: 'k' } }],
  ['cert without key', { tlsCertFile: 'c' }, /go together/],
  ['TLS and --insecure-plain-http', { tlsCertFile: 'c', tlsPrivateKeyFile: 'k', insecurePlainHttp: true }, /contradicts/],
  ['client CA without TLS', { clientCaFile: 'ca' }, /needs HTTPS/],
  ['tokens: anonymous off by default', { tokenAuthFile: 't' }, { authenticate: true, anonymous: false, tokenFile: 't' }],
  ['tokens + --anonymous-auth=true', { tokenAuthFile: 't', anonymousAuth: true }, { anonymous: true }],
  ['--anonymous-auth=false without authenticators', { anonymousAuth: false }, /would refuse every request/],
  ['ABAC needs a policy file', { tokenAuthFile: 't', authorizationMode: 'ABAC' }, /needs --authorization-policy-file/],
  ['policy file without ABAC', { tokenAuthFile: 't', authorizationPolicyFile: 'p' }, /only used with --authorization-mode ABAC/],
  ['Pod,ABAC', { tokenAuthFile: 't', authorizationMode: 'Pod,ABAC', authorizationPolicyFile: 'p' }, { authorizers: ['Pod', 'ABAC'], policyFile: 'p' }],
  ['RBAC is not supported', { tokenAuthFile: 't', authorizationMode: 'RBAC' }, /RBAC is not supported by knet; use ABAC/],
  ['unknown mode', { authorizationMode: 'Magic' }, /unknown --authorization-mode "Magic"/],
  ['ABAC without any authenticator', { authorizationMode: 'ABAC', authorizationPolicyFile: 'p' }, /needs authenticated users/],
  ['ipam mTLS needs all three', { ipamCaFile: 'a', ipamClientCertFile: 'b' }, /go together/],
  ['ipam mTLS', { ipamCaFile: 'a', ipamClientCertFile: 'b', ipamClientKeyFile: 'c' }, { ipamTls: { caFile: 'a', certFile: 'b', keyFile: 'c' } }],
];
for (const [name, flags, want] of plans) {
  test(`planSecurity: ${name}`, (t) => {
    if (want instanceof RegExp) t.throws(() => planSecurity({ ...base, ...flags }), { message: want });
    else t.like(planSecurity({ ...base, ...flags }), want);
  });
}

test('isLoopback', (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) t.true(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '198.51.100.1', '', '127.0.0.1.example.com']) t.false(isLoopback(h), h);
});

test('RequestLimits: separate budgets, release frees, watches per user, masters exempt', (t) => {
  const l = new RequestLimits({ maxReadOnly: 1, maxMutating: 2, maxWatchesPerUser: 1 });
  const a = l.acquire(user, 'mutating')!;
  t.truthy(l.acquire(user, 'mutating'));
  t.is(l.acquire(user, 'mutating'), undefined);
  t.truthy(l.acquire(user, 'readOnly'));
  a.release();
  a.release(); // idempotent
  t.deepEqual(l.inflight, { readOnly: 1, mutating: 1 });
  t.truthy(l.acquire(user, 'mutating'));
  const w = l.acquire(user, 'watch')!;
  t.is(l.acquire(user, 'watch'), undefined);
  t.truthy(l.acquire({ name: 'other', groups: [] }, 'watch'));
  w.release();
  t.truthy(l.acquire(user, 'watch'));
  const root = { name: 'root', groups: ['system:masters'] };
  for (let i = 0; i < 5; i++) t.truthy(l.acquire(root, 'mutating'));
  t.truthy(new RequestLimits({ maxReadOnly: 0, maxMutating: 0, maxWatchesPerUser: 0 }).acquire(user, 'readOnly'), '0 is unlimited');
});

test('SelfSubjectAccessReview answers with the authorizers’ decision', (t) => {
  const z = [abacAuthorizer([policy({ user: 'u', namespace: 'ns', resource: 'services', readonly: true })])];
  const review = (spec: object) => selfSubjectAccessReview({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec }, user, z);
  t.like(review({ resourceAttributes: { namespace: 'ns', verb: 'list', resource: 'services' } }), { review: { status: { allowed: true } } });
  t.like(review({ resourceAttributes: { namespace: 'ns', verb: 'create', resource: 'services' } }), { review: { status: { allowed: false } } });
  t.like(review({ nonResourceAttributes: { path: '/metrics', verb: 'get' } }), { review: { status: { allowed: false } } });
  t.like(review({}), { error: { code: 422, reason: 'Invalid' } });
  t.like(selfSubjectAccessReview({ kind: 'Pod' }, user, z), { error: { code: 400 } });
  t.like(selfSubjectAccessReview({ spec: { nonResourceAttributes: { path: '/x', verb: 'get' } } }, user, [alwaysAllow]), { review: { status: { allowed: true } } });
});

test('SelfSubjectRulesReview lists ABAC and pod rules for the namespace', (t) => {
  const me = { name: podUser('ns', 'p'), groups: [PODS_GROUP] };
  const r = selfSubjectRulesReview({ spec: { namespace: 'ns' } }, me, [podAuthorizer(), abacAuthorizer([policy({ group: PODS_GROUP, nonResourcePath: '/version', readonly: true })])]);
  t.true('review' in r);
  const status = (r as { review: { status: { resourceRules: { resources: string[]; resourceNames?: string[] }[]; nonResourceRules: object[] } } }).review.status;
  t.deepEqual(status.resourceRules[0]!.resourceNames, ['p']);
  t.deepEqual(status.nonResourceRules, [{ verbs: ['get', 'list', 'watch'], nonResourceURLs: ['/version'] }]);
});
