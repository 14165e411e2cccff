import test from 'ava';
import { INVALID_CIDR_MESSAGE, INVALID_IP_MESSAGE } from './validation/ip.js';
import type { Endpoints, Namespace, Node, Pod } from './core.js';
import type { EndpointSlice } from './discovery.js';
import { defaultEndpointSlice, defaultEndpoints, defaultNamespace, defaultNode, defaultPod } from './defaults.js';
import { errorString } from './field-errors.js';
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  validateEndpointSlice,
  validateEndpointSliceUpdate,
  validateEndpoints,
  validateNamespace,
  validateNode,
  validateNodeUpdate,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validatePod,
  validatePodUpdate,
  nameIsDNSSubdomain,
} from './validation/index.js';

const nameCases: [string, (v: string) => string[], string, string[]][] = [
  ['label ok', isDNS1123Label, 'my-name', []],
  ['label digits first ok', isDNS1123Label, '123-abc', []],
  ['label trailing dash', isDNS1123Label, 'abc-', ["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]],
  ['label too long', isDNS1123Label, 'a'.repeat(64), ['must be no more than 63 characters']],
  ['subdomain ok', isDNS1123Subdomain, 'a.b-c.d', []],
  ['subdomain too long', isDNS1123Subdomain, 'a'.repeat(254), ['must be no more than 253 characters']],
  ['1035 digit first', isDNS1035Label, '1ab', ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]],
  ['qualified ok', isQualifiedName, 'example.com/MyName', []],
  ['qualified empty prefix', isQualifiedName, '/a', ['prefix part must be non-empty']],
  ['qualified two slashes', isQualifiedName, 'a/b/c', ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]],
  ['qualified empty name', isQualifiedName, 'a/', ['name part must be non-empty', "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]],
  ['label value empty ok', isValidLabelValue, '', []],
  ['label value too long', isValidLabelValue, 'a'.repeat(64), ['must be no more than 63 characters']],
];
for (const [name, fn, value, want] of nameCases) {
  test(`names: ${name}`, (t) => t.deepEqual(fn(value), want));
}

test('meta: generateName prefix may end with a dash; labels, annotations, namespace forbidden', (t) => {
  t.deepEqual(validateObjectMeta({ name: 'x-1', generateName: 'x-' }, false, nameIsDNSSubdomain).map(errorString), []);
  t.deepEqual(validateObjectMeta({ name: 'n', namespace: 'default' }, false, nameIsDNSSubdomain).map(errorString), [
    'metadata.namespace: Forbidden: not allowed on this type',
  ]);
  const errs = validateObjectMeta(
    { name: 'n', labels: { 'a/b/c': 'x', ok: '-bad' }, annotations: { 'Example.com/Mixed': 'fine', big: 'x'.repeat(262144) } },
    false,
    nameIsDNSSubdomain,
  ).map(errorString);
  t.is(errs.length, 3);
  t.true(errs[0]!.startsWith('metadata.labels: Invalid value: "a/b/c": a qualified name must consist'));
  t.true(errs[1]!.startsWith('metadata.labels: Invalid value: "-bad": a valid label must be'));
  t.is(errs[2], 'metadata.annotations: Too long: must have at most 262144 bytes');
});

test('meta update: identity immutable, resourceVersion required', (t) => {
  const old = { name: 'a', namespace: 'default', uid: 'u1', resourceVersion: '5', creationTimestamp: '2026-01-01T00:00:00Z' };
  t.deepEqual(validateObjectMetaUpdate({ ...old }, old).map(errorString), []);
  t.deepEqual(validateObjectMetaUpdate({ ...old, name: 'b', uid: 'u2', resourceVersion: '' }, old).map(errorString), [
    'metadata.resourceVersion: Invalid value: "": must be specified for an update',
    'metadata.name: Invalid value: "b": field is immutable',
    'metadata.uid: Invalid value: "u2": field is immutable',
  ]);
});

const ep = (subsets: Endpoints['subsets']): Endpoints => defaultEndpoints({ metadata: { name: 'db', namespace: 'default' }, subsets });

const endpointsCases: [string, Endpoints, string[]][] = [
  ['valid', ep([{ addresses: [{ ip: '127.244.0.5', nodeName: 'node-1' }], ports: [{ port: 80 }] }]), []],
  ['valid empty subsets', ep([]), []],
  ['no addresses', ep([{ ports: [{ port: 80 }] }]), ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']],
  ['bad ip reported twice as Kubernetes does', ep([{ addresses: [{ ip: 'x' }] }]), [
    `subsets[0].addresses[0].ip: Invalid value: "x": ${INVALID_IP_MESSAGE}`,
    'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address',
  ]],
  ['names required with two ports', ep([{ addresses: [{ ip: '127.244.0.5' }], ports: [{ port: 80 }, { port: 81, name: 'b' }] }]), ['subsets[0].ports[0].name: Required value']],
  ['bad port and protocol', ep([{ notReadyAddresses: [{ ip: '127.244.0.5' }], ports: [{ port: 0, protocol: 'ICMP' as 'TCP' }] }]), [
    'subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'subsets[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]],
];
for (const [name, obj, want] of endpointsCases) {
  test(`Endpoints: ${name}`, (t) => t.deepEqual(validateEndpoints(obj).map(errorString), want));
}

const slice = (s: Partial<EndpointSlice>): EndpointSlice =>
  defaultEndpointSlice({ metadata: { name: 'db-abc', namespace: 'default' }, addressType: 'IPv4', endpoints: [], ...s });

const sliceCases: [string, EndpointSlice, string[]][] = [
  ['valid', slice({ endpoints: [{ addresses: ['127.244.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80 }] }), []],
  ['valid FQDN', slice({ addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com'] }] }), []],
  ['no addressType', slice({ addressType: '' as 'IPv4' }), ['addressType: Required value']],
  ['bad addressType', slice({ addressType: 'IPv5' as 'IPv4' }), ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']],
  ['IPv6 in IPv4 slice', slice({ endpoints: [{ addresses: ['fd00::1'] }] }), ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']],
  ['no addresses', slice({ endpoints: [{ addresses: [] }] }), ['endpoints[0].addresses: Required value: must contain at least 1 address']],
  ['two unnamed ports', slice({ ports: [{ port: 80 }, { port: 81 }] }), ['ports[1].name: Duplicate value: ""']],
  ['single-label FQDN', slice({ addressType: 'FQDN', endpoints: [{ addresses: ['db'] }] }), ['endpoints[0].addresses[0]: Invalid value: "db": should be a domain with at least two segments separated by dots']],
  ['too many endpoints', slice({ endpoints: Array.from({ length: 1001 }, () => ({ addresses: ['127.244.0.1'] })) }), ['endpoints: Too many: 1001: must have at most 1000 items']],
];
for (const [name, obj, want] of sliceCases) {
  test(`EndpointSlice: ${name}`, (t) => t.deepEqual(validateEndpointSlice(obj).map(errorString), want));
}

test('EndpointSlice update: addressType is immutable', (t) => {
  const old = slice({ metadata: { name: 'db-abc', namespace: 'default', resourceVersion: '1' } });
  const next = slice({ metadata: { name: 'db-abc', namespace: 'default', resourceVersion: '1' }, addressType: 'IPv6' });
  t.deepEqual(validateEndpointSliceUpdate(next, old).map(errorString), ['addressType: Invalid value: "IPv6": field is immutable']);
});

const pod = (p: Partial<Pod['spec']>, status?: Pod['status']): Pod =>
  defaultPod({ metadata: { name: 'web-1', namespace: 'default' }, spec: { containers: [{ name: 'web', ports: [{ containerPort: 8080, name: 'http' }] }], ...p }, status });

const podCases: [string, Pod, string[]][] = [
  ['valid', pod({}, { podIP: '127.244.0.5', podIPs: [{ ip: '127.244.0.5' }, { ip: 'fd00::5' }] }), []],
  ['no containers', pod({ containers: [] }), ['spec.containers: Required value']],
  ['duplicate container names', pod({ containers: [{ name: 'a' }, { name: 'a' }] }), ['spec.containers[1].name: Duplicate value: "a"']],
  ['container port problems', pod({ containers: [{ name: 'a', ports: [{ containerPort: 0, name: 'HTTP' }, { containerPort: 70000 }] }] }), [
    'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
    'spec.containers[0].ports[0].containerPort: Required value',
    'spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]],
  ['bad restartPolicy', pod({ restartPolicy: 'Sometimes' as 'Always' }), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"']],
  ['two IPv4 pod IPs', pod({}, { podIPs: [{ ip: '127.244.0.5' }, { ip: '127.244.0.6' }] }), ['status.podIPs: Invalid value: [{"ip":"127.244.0.5"},{"ip":"127.244.0.6"}]: may specify no more than one IP for each IP family']],
  ['bad pod IP', pod({}, { podIP: 'nope' }), [`status.podIPs[0].ip: Invalid value: "nope": ${INVALID_IP_MESSAGE}`]],
  ['probe without handler', pod({ containers: [{ name: 'a', readinessProbe: {} }] }), ['spec.containers[0].readinessProbe: Required value: must specify a handler type']],
];
for (const [name, obj, want] of podCases) {
  test(`Pod: ${name}`, (t) => t.deepEqual(validatePod(obj).map(errorString), want));
}

test('Pod update: spec is immutable except images', (t) => {
  const old = pod({});
  old.metadata.resourceVersion = '1';
  const imageOnly = structuredClone(old);
  imageOnly.spec.containers[0]!.image = 'web:2';
  t.deepEqual(validatePodUpdate(imageOnly, old).map(errorString), []);
  const moved = structuredClone(old);
  moved.spec.nodeName = 'node-2';
  const errs = validatePodUpdate(moved, old);
  t.is(errs.length, 1);
  t.is(errs[0]!.field, 'spec');
  t.is(errs[0]!.type, 'FieldValueForbidden');
});

const node = (n: Partial<Node>): Node => defaultNode({ metadata: { name: 'node-1' }, ...n });
test('Node: podCIDRs valid, dual-stack and immutable once set', (t) => {
  t.deepEqual(validateNode(node({ spec: { podCIDRs: ['127.244.1.0/24', 'fd00:1::/64'] } })).map(errorString), []);
  t.deepEqual(validateNode(node({ spec: { podCIDRs: ['127.244.1.0/24', '127.244.2.0/24'] } })).map(errorString), [
    'spec.podCIDRs: Invalid value: ["127.244.1.0/24","127.244.2.0/24"]: may specify no more than one CIDR for each IP family',
  ]);
  t.deepEqual(validateNode(node({ spec: { podCIDR: 'x' } })).map(errorString), [
    `spec.podCIDRs[0]: Invalid value: "x": ${INVALID_CIDR_MESSAGE}`,
  ]);
  const old = node({ spec: { podCIDRs: ['127.244.1.0/24'] } });
  old.metadata.resourceVersion = '1';
  const changed = node({ metadata: { name: 'node-1', resourceVersion: '1' }, spec: { podCIDRs: ['127.244.2.0/24'] } });
  t.deepEqual(validateNodeUpdate(changed, old).map(errorString), ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
});

test('Namespace: DNS-1123 label name, finalizer names', (t) => {
  const ns = (name: string, finalizers?: string[]): Namespace => defaultNamespace({ metadata: { name }, spec: { finalizers } });
  t.deepEqual(validateNamespace(ns('prod')).map(errorString), []);
  t.deepEqual(validateNamespace(ns('prod.eu')).map(errorString), ['metadata.name: Invalid value: "prod.eu": must not contain dots']);
  t.deepEqual(validateNamespace(ns('prod', ['custom'])).map(errorString), [
    'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});
