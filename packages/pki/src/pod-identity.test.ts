import test from 'ava';
import type { Attributes } from './authorization.js';
import { admitPodCreate, parsePodUser, podAuthorizer, podUser, PODS_GROUP } from './pod-identity.js';

const me = { name: podUser('shop', 'web-1'), groups: [PODS_GROUP, 'system:authenticated'] };
const a = (verb: string, resource: string, namespace: string, name?: string, subresource?: string, user = me): Attributes =>
  ({ user, verb, resourceRequest: true, namespace, apiGroup: '', resource, ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) });

const table: [string, Attributes, 'allow' | 'no-opinion'][] = [
  ['get own pod', a('get', 'pods', 'shop', 'web-1'), 'allow'],
  ['patch own pod', a('patch', 'pods', 'shop', 'web-1'), 'allow'],
  ['update own pod status', a('update', 'pods', 'shop', 'web-1', 'status'), 'allow'],
  ['delete own pod', a('delete', 'pods', 'shop', 'web-1'), 'allow'],
  ['watch own pod (name from the field selector)', a('watch', 'pods', 'shop', 'web-1'), 'allow'],
  ['create in own namespace (name checked at admission)', a('create', 'pods', 'shop'), 'allow'],
  ['patch another pod', a('patch', 'pods', 'shop', 'web-2'), 'no-opinion'],
  ['same name in another namespace', a('patch', 'pods', 'other', 'web-1'), 'no-opinion'],
  ['list all pods', a('list', 'pods', 'shop'), 'no-opinion'],
  ['create in another namespace', a('create', 'pods', 'other'), 'no-opinion'],
  ['own pod eviction-like subresource', a('create', 'pods', 'shop', 'web-1', 'binding'), 'no-opinion'],
  ['list services in own namespace', a('list', 'services', 'shop'), 'allow'],
  ['get endpoints in own namespace', a('get', 'endpoints', 'shop', 'db'), 'allow'],
  ['write a service', a('create', 'services', 'shop'), 'no-opinion'],
  ['list services elsewhere', a('list', 'services', 'default'), 'no-opinion'],
  ['get default/kubernetes', a('get', 'services', 'default', 'kubernetes'), 'allow'],
  ['get another default service', a('get', 'services', 'default', 'db'), 'no-opinion'],
  ['get a node (knet run picks its node)', a('get', 'nodes', '', 'n1'), 'allow'],
  ['list nodes', a('list', 'nodes', ''), 'allow'],
  ['update a node', a('update', 'nodes', '', 'n1'), 'no-opinion'],
  ['watch nodes', a('watch', 'nodes', ''), 'no-opinion'],
  ['not in the pods group', a('get', 'pods', 'shop', 'web-1', undefined, { name: me.name, groups: [] }), 'no-opinion'],
  ['pods group, other user name', a('get', 'pods', 'shop', 'web-1', undefined, { name: 'mallory', groups: [PODS_GROUP] }), 'no-opinion'],
];
for (const [name, attrs, want] of table) {
  test(`pod authorizer: ${name}`, (t) => t.is(podAuthorizer().authorize(attrs), want));
}

test('pod user names', (t) => {
  t.deepEqual(parsePodUser('system:pod:ns:name'), { namespace: 'ns', name: 'name' });
  t.is(parsePodUser('system:pod:ns'), undefined);
  t.is(parsePodUser('system:pod::x'), undefined);
  t.is(parsePodUser('alice'), undefined);
});

test('admitPodCreate: a pod identity creates only its own pod', (t) => {
  t.is(admitPodCreate(me, 'shop', 'web-1'), undefined);
  t.regex(admitPodCreate(me, 'shop', 'web-2') ?? '', /may only create its own pod shop\/web-1/);
  t.truthy(admitPodCreate(me, 'shop', undefined));
  t.is(admitPodCreate({ name: 'admin', groups: ['system:masters'] }, 'shop', 'x'), undefined);
});
