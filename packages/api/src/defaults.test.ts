import test from 'ava';
import type { Namespace, Pod, Service, ServiceSpec } from './core.js';
import type { EndpointSlice } from './discovery.js';
import { defaultEndpointSlice, defaultEndpoints, defaultNamespace, defaultNode, defaultPod, defaultService } from './defaults.js';

const svc = (spec: Partial<ServiceSpec>): Service => defaultService({ metadata: { name: 'db', namespace: 'default' }, spec: spec as ServiceSpec });

const serviceCases: [string, Partial<ServiceSpec>, ServiceSpec][] = [
  ['ClusterIP', { ports: [{ port: 80 }] }, {
    type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
  }],
  ['named targetPort kept, UDP kept', { ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] }, {
    type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
    ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }],
  }],
  ['ClientIP gets the 3h timeout', { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }, {
    type: 'ClusterIP', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    internalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
  }],
  ['None drops affinity config', { sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } }, {
    type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
  }],
  ['NodePort', { type: 'NodePort', ports: [{ port: 80 }] }, {
    type: 'NodePort', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster',
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
  }],
  ['LoadBalancer', { type: 'LoadBalancer', ports: [{ port: 80 }] }, {
    type: 'LoadBalancer', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster',
    allocateLoadBalancerNodePorts: true, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
  }],
  ['ClusterIP with externalIPs is externally accessible', { externalIPs: ['127.200.0.1'] }, {
    type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster', externalIPs: ['127.200.0.1'],
  }],
  ['ExternalName has no traffic policies', { type: 'ExternalName', externalName: 'example.com' }, {
    type: 'ExternalName', sessionAffinity: 'None', externalName: 'example.com',
  }],
  ['headless clusterIP mirrored', { clusterIP: 'None' }, {
    type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', clusterIP: 'None', clusterIPs: ['None'],
  }],
  ['explicit values kept', { type: 'NodePort', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local', clusterIP: '127.96.0.9', clusterIPs: ['127.96.0.9'] }, {
    type: 'NodePort', sessionAffinity: 'None', internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local',
    clusterIP: '127.96.0.9', clusterIPs: ['127.96.0.9'],
  }],
];
for (const [name, spec, want] of serviceCases) {
  test(`defaultService: ${name}`, (t) => t.deepEqual(svc(spec).spec, want));
}

test('defaultService: a missing spec becomes a defaulted one; LB ingress gets ipMode VIP', (t) => {
  const s = defaultService({ metadata: { name: 'x' } } as Service);
  t.is(s.spec.type, 'ClusterIP');
  const lb = defaultService({ metadata: { name: 'x' }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '127.200.0.1' }, { hostname: 'lb.example.com' }] } } });
  t.deepEqual(lb.status?.loadBalancer?.ingress, [{ ip: '127.200.0.1', ipMode: 'VIP' }, { hostname: 'lb.example.com' }]);
});

test('defaultEndpoints and defaultEndpointSlice: protocol TCP, slice port name ""', (t) => {
  const ep = defaultEndpoints({ metadata: { name: 'x' }, subsets: [{ addresses: [{ ip: '127.244.0.1' }], ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] });
  t.deepEqual(ep.subsets![0]!.ports, [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }]);
  const s: EndpointSlice = defaultEndpointSlice({ metadata: { name: 'x' }, addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] });
  t.deepEqual(s.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
});

test('defaultNamespace: kubernetes finalizer, Active, metadata.name label', (t) => {
  const ns: Namespace = defaultNamespace({ metadata: { name: 'prod' } });
  t.deepEqual(ns, {
    metadata: { name: 'prod', labels: { 'kubernetes.io/metadata.name': 'prod' } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });
  t.deepEqual(defaultNamespace({ metadata: { name: 'p' }, spec: { finalizers: ['example.com/x'] } }).spec?.finalizers, ['example.com/x', 'kubernetes']);
});

test('defaultPod: policies, container port protocol, podIP mirrored', (t) => {
  const p: Pod = defaultPod({
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { port: 80 } } }] },
    status: { podIP: '127.244.0.5' },
  });
  t.is(p.spec.restartPolicy, 'Always');
  t.is(p.spec.dnsPolicy, 'ClusterFirst');
  t.is(p.spec.terminationGracePeriodSeconds, 30);
  t.is(p.spec.schedulerName, 'default-scheduler');
  t.true(p.spec.enableServiceLinks);
  t.deepEqual(p.spec.containers[0]!.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  t.is(p.spec.containers[0]!.imagePullPolicy, 'Always');
  t.deepEqual(p.spec.containers[0]!.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  t.deepEqual(p.status?.podIPs, [{ ip: '127.244.0.5' }]);
  const tagged = defaultPod({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'registry:5000/nginx:1.27' }] } });
  t.is(tagged.spec.containers[0]!.imagePullPolicy, 'IfNotPresent');
  const host = defaultPod({ metadata: { name: 'p' }, spec: { hostNetwork: true, containers: [{ name: 'c', ports: [{ containerPort: 9 }] }] } });
  t.is(host.spec.containers[0]!.ports![0]!.hostPort, 9);
});

test('defaultNode: podCIDR mirrored, allocatable from capacity', (t) => {
  const n = defaultNode({ metadata: { name: 'n' }, spec: { podCIDR: '127.244.1.0/24' }, status: { capacity: { pods: '110' } } });
  t.deepEqual(n.spec?.podCIDRs, ['127.244.1.0/24']);
  t.deepEqual(n.status?.allocatable, { pods: '110' });
});

test('generateNameFrom: 5 random characters from the Kubernetes alphabet, at most 63 long', async (t) => {
  const { generateNameFrom } = await import('./generate-name.js');
  t.regex(generateNameFrom('web-'), /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.is(generateNameFrom('a'.repeat(80)).length, 63);
});
