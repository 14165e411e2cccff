import test from 'ava';
import type { Service } from './core.js';
import { serviceEnvVars, serviceEnvVarsForPod } from './index.js';

const svc = (name: string, namespace: string, spec: Service['spec']): Service => ({ metadata: { name, namespace }, spec });

test('serviceEnvVars: the redis-primary example of the Kubernetes docs', (t) => {
  const env = serviceEnvVars([svc('redis-primary', 'default', { clusterIP: '127.96.0.11', ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }] })]);
  t.deepEqual(env, {
    REDIS_PRIMARY_SERVICE_HOST: '127.96.0.11',
    REDIS_PRIMARY_SERVICE_PORT: '6379',
    REDIS_PRIMARY_SERVICE_PORT_REDIS: '6379',
    REDIS_PRIMARY_PORT: 'tcp://127.96.0.11:6379',
    REDIS_PRIMARY_PORT_6379_TCP: 'tcp://127.96.0.11:6379',
    REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
    REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
    REDIS_PRIMARY_PORT_6379_TCP_ADDR: '127.96.0.11',
  });
});

test('serviceEnvVars: several ports, UDP, IPv6; headless and ExternalName skipped', (t) => {
  const env = serviceEnvVars([
    svc('kube-dns', 'kube-system', { clusterIP: 'fd00::a', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
    svc('headless', 'kube-system', { clusterIP: 'None', ports: [{ port: 80 }] }),
    svc('ext', 'kube-system', { type: 'ExternalName', externalName: 'example.com' }),
  ]);
  t.deepEqual(env, {
    KUBE_DNS_SERVICE_HOST: 'fd00::a',
    KUBE_DNS_SERVICE_PORT: '53',
    KUBE_DNS_SERVICE_PORT_DNS: '53',
    KUBE_DNS_SERVICE_PORT_DNS_TCP: '53',
    KUBE_DNS_PORT: 'udp://[fd00::a]:53',
    KUBE_DNS_PORT_53_UDP: 'udp://[fd00::a]:53',
    KUBE_DNS_PORT_53_UDP_PROTO: 'udp',
    KUBE_DNS_PORT_53_UDP_PORT: '53',
    KUBE_DNS_PORT_53_UDP_ADDR: 'fd00::a',
    KUBE_DNS_PORT_53_TCP: 'tcp://[fd00::a]:53',
    KUBE_DNS_PORT_53_TCP_PROTO: 'tcp',
    KUBE_DNS_PORT_53_TCP_PORT: '53',
    KUBE_DNS_PORT_53_TCP_ADDR: 'fd00::a',
  });
});

test('serviceEnvVarsForPod: own namespace plus default/kubernetes; service links can be off', (t) => {
  const all = [
    svc('kubernetes', 'default', { clusterIP: '127.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
    svc('db', 'prod', { clusterIP: '127.96.0.20', ports: [{ port: 5432, protocol: 'TCP' }] }),
    svc('cache', 'other', { clusterIP: '127.96.0.30', ports: [{ port: 6379, protocol: 'TCP' }] }),
  ];
  const env = serviceEnvVarsForPod('prod', all);
  t.is(env['DB_SERVICE_HOST'], '127.96.0.20');
  t.is(env['KUBERNETES_SERVICE_HOST'], '127.96.0.1');
  t.is(env['KUBERNETES_SERVICE_PORT_HTTPS'], '443');
  t.false('CACHE_SERVICE_HOST' in env);
  const off = serviceEnvVarsForPod('prod', all, false);
  t.deepEqual(Object.keys(off).filter((k) => k.endsWith('_SERVICE_HOST')), ['KUBERNETES_SERVICE_HOST']);
});
