import test from 'ava';
import type { Service, ServiceSpec, ServiceStatus } from '@knet/api';
import { ingressIs, loadBalancerAction, withIngress, type LoadBalancerAction } from './load-balancer.js';

const svc = (spec: Partial<ServiceSpec>, status?: ServiceStatus): Service => ({
  metadata: { name: 'lb', namespace: 'default' },
  spec: { type: 'ClusterIP', ports: [{ port: 80 }], ...spec },
  ...(status ? { status } : {}),
});
const ing = (ip: string): ServiceStatus => ({ loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } });

const cases: [string, Service, LoadBalancerAction][] = [
  ['new LoadBalancer', svc({ type: 'LoadBalancer' }), { kind: 'assign', current: [] }],
  ['LoadBalancer with loadBalancerIP', svc({ type: 'LoadBalancer', loadBalancerIP: '127.200.0.9' }), { kind: 'assign', ip: '127.200.0.9', current: [] }],
  ['LoadBalancer keeps its published IP', svc({ type: 'LoadBalancer' }, ing('127.200.0.4')), { kind: 'assign', ip: '127.200.0.4', current: ['127.200.0.4'] }],
  ['loadBalancerIP changed', svc({ type: 'LoadBalancer', loadBalancerIP: '127.200.0.9' }, ing('127.200.0.4')), { kind: 'assign', ip: '127.200.0.9', current: ['127.200.0.4'] }],
  ['another implementation (loadBalancerClass)', svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' }), { kind: 'none' }],
  ['type changed away from LoadBalancer', svc({ type: 'ClusterIP' }, ing('127.200.0.4')), { kind: 'clear', release: ['127.200.0.4'] }],
  ['plain ClusterIP', svc({}), { kind: 'none' }],
];
for (const [name, s, want] of cases) {
  test(`loadBalancerAction: ${name}`, (t) => t.deepEqual(loadBalancerAction(s), want));
}

test('ingressIs and withIngress', (t) => {
  const s = svc({ type: 'LoadBalancer' });
  t.false(ingressIs(s, '127.200.0.1'));
  const next = withIngress(s, [{ ip: '127.200.0.1', ipMode: 'VIP' }]);
  t.true(ingressIs(next, '127.200.0.1'));
  t.false(ingressIs(next, '127.200.0.2'));
  t.deepEqual(withIngress(next, []).status, { loadBalancer: {} });
  t.is(s.status, undefined, 'input untouched');
});
