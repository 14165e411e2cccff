import test from 'ava';
import { parseLabel, parsePort, parseReadiness, podFor } from './pod-spec.js';

const ports: [string, unknown][] = [
  ['8080', { containerPort: 8080, protocol: 'TCP' }],
  ['http:8080', { name: 'http', containerPort: 8080, protocol: 'TCP' }],
  ['dns:53/udp', { name: 'dns', containerPort: 53, protocol: 'UDP' }],
  ['53/UDP', { containerPort: 53, protocol: 'UDP' }],
  ['x:1/sctp', { name: 'x', containerPort: 1, protocol: 'SCTP' }],
];
for (const [spec, want] of ports) test(`port ${spec}`, (t) => t.deepEqual(parsePort(spec), want));

const badPorts: [string, RegExp][] = [
  ['0', /between 1 and 65535/],
  ['70000', /between 1 and 65535/],
  ['http', /expected \[name:\]port/],
  ['8080/icmp', /expected \[name:\]port/],
  ['a-very-long-port-name:80', /at most 15/],
  ['123:80', /at least one letter/],
];
for (const [spec, msg] of badPorts) test(`bad port ${spec}`, (t) => t.throws(() => parsePort(spec), { message: msg }));

test('labels', (t) => {
  t.deepEqual(parseLabel('app=db'), ['app', 'db']);
  t.deepEqual(parseLabel('app.kubernetes.io/name=web'), ['app.kubernetes.io/name', 'web']);
  t.deepEqual(parseLabel('tier='), ['tier', '']);
  t.throws(() => parseLabel('app'), { message: /expected key=value/ });
  t.throws(() => parseLabel('-x=y'), { message: /invalid label key/ });
  t.throws(() => parseLabel('x=y z'), { message: /invalid label value/ });
});

test('readiness', (t) => {
  t.deepEqual(parseReadiness(undefined), { kind: 'none' });
  t.deepEqual(parseReadiness('tcp'), { kind: 'tcp' });
  t.deepEqual(parseReadiness('http:/healthz'), { kind: 'http', path: '/healthz' });
  t.deepEqual(parseReadiness('http:ready'), { kind: 'http', path: '/ready' });
  t.deepEqual(parseReadiness('exec:test -f /tmp/ok'), { kind: 'exec', command: 'test -f /tmp/ok' });
  t.throws(() => parseReadiness('grpc'), { message: /http:PATH, tcp or exec:COMMAND/ });
});

test('the pod carries labels, ports, node, the command and a probe on the first port', (t) => {
  const pod = podFor({
    name: 'web-1',
    namespace: 'prod',
    labels: { app: 'web' },
    ports: [parsePort('http:8080')],
    readiness: { kind: 'http', path: '/ready' },
    command: ['node', 'server.js'],
    nodeName: 'local',
    gracePeriodSeconds: 5,
  });
  t.is(pod.metadata.namespace, 'prod');
  t.deepEqual(pod.metadata.labels, { app: 'web' });
  t.is(pod.spec.nodeName, 'local');
  t.deepEqual(pod.spec.containers[0].command, ['node', 'server.js']);
  t.deepEqual(pod.spec.containers[0].ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  t.deepEqual(pod.spec.containers[0].readinessProbe?.httpGet, { path: '/ready', port: 8080 });
  t.is(pod.spec.terminationGracePeriodSeconds, 5);
});

test('a preStop sleep is recorded as the container lifecycle hook; none without it', (t) => {
  const spec = { name: 'web-1', namespace: 'prod', labels: {}, ports: [], readiness: { kind: 'none' as const }, command: ['true'], nodeName: 'local', gracePeriodSeconds: 10 };
  t.deepEqual(podFor({ ...spec, preStopSleepSeconds: 3 }).spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 3 } } });
  t.is(podFor(spec).spec.containers[0].lifecycle, undefined);
});
