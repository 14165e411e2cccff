import test from 'ava';
import { INVALID_CIDR_MESSAGE, INVALID_IP_MESSAGE } from './validation/ip.js';
import type { Service, ServiceSpec } from './core.js';
import type { ObjectMeta } from './meta.js';
import { defaultService } from './defaults.js';
import { errorString } from './field-errors.js';
import { validateService } from './validation/service.js';

/** A defaulted Service as the apiserver validates it (after prepareForCreate). */
function mk(spec: Partial<ServiceSpec>, metadata: ObjectMeta = { name: 'db', namespace: 'default' }): Service {
  return defaultService({ metadata, spec: structuredClone(spec) as ServiceSpec });
}

const dns1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const dns1123Label =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const dns1123Subdomain =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelValue =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const badIP = INVALID_IP_MESSAGE;
const p80 = [{ port: 80 }];

const valid: [string, Service][] = [
  ['ClusterIP with selector', mk({ ports: p80, selector: { app: 'db' } })],
  ['ClusterIP with allocated IP', mk({ ports: p80, clusterIP: '127.96.0.5', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' })],
  ['headless without ports', mk({ clusterIP: 'None' })],
  ['headless with selector and ports', mk({ clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] })],
  ['ExternalName', mk({ type: 'ExternalName', externalName: 'example.com' })],
  ['ExternalName with trailing dot', mk({ type: 'ExternalName', externalName: 'db.example.com.' })],
  ['NodePort', mk({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })],
  ['NodePort same nodePort different protocols', mk({ type: 'NodePort', ports: [{ name: 'dns', port: 53, nodePort: 30053 }, { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053 }] })],
  ['LoadBalancer', mk({ type: 'LoadBalancer', ports: [{ port: 443 }], loadBalancerSourceRanges: ['127.0.0.0/8', ' fd00::/8 '] })],
  ['LoadBalancer Local with health check port', mk({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31000, ports: p80 })],
  ['dual-stack', mk({ ports: p80, clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' })],
  ['ClientIP affinity defaulted', mk({ ports: p80, sessionAffinity: 'ClientIP' })],
  ['ClientIP affinity max timeout', mk({ ports: p80, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } } })],
  ['named targetPort', mk({ ports: [{ port: 80, targetPort: 'http' }] })],
  ['externalIPs on ClusterIP (loopback allowed in knet)', mk({ ports: p80, externalIPs: ['127.200.0.1', '192.0.2.1'] })],
  ['SCTP and UDP on same port', mk({ ports: [{ name: 'a', port: 80, protocol: 'SCTP' }, { name: 'b', port: 80, protocol: 'UDP' }] })],
  ['generateName only is enough once named', mk({ ports: p80 }, { name: 'db-x1y2z', generateName: 'db-', namespace: 'default' })],
  ['appProtocol qualified name', mk({ ports: [{ port: 80, appProtocol: 'kubernetes.io/h2c' }] })],
];

for (const [name, svc] of valid) {
  test(`valid Service: ${name}`, (t) => {
    t.deepEqual(validateService(svc).map(errorString), []);
  });
}

const invalidCases: [string, Service, string[]][] = [
  ['port 0', mk({ ports: [{ port: 0 }] }), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]],
  ['port 65536', mk({ ports: [{ port: 65536, targetPort: 8080 }] }), ['spec.ports[0].port: Invalid value: 65536: must be between 1 and 65535, inclusive']],
  ['no name', mk({ ports: p80 }, { namespace: 'default' }), ['metadata.name: Required value: name or generateName is required']],
  ['upper-case name', mk({ ports: p80 }, { name: 'Db', namespace: 'default' }), [`metadata.name: Invalid value: "Db": ${dns1035}`]],
  ['name starting with a digit', mk({ ports: p80 }, { name: '1db', namespace: 'default' }), [`metadata.name: Invalid value: "1db": ${dns1035}`]],
  ['name too long', mk({ ports: p80 }, { name: 'a'.repeat(64), namespace: 'default' }), [`metadata.name: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`]],
  ['no namespace', mk({ ports: p80 }, { name: 'db' }), ['metadata.namespace: Required value']],
  ['bad namespace', mk({ ports: p80 }, { name: 'db', namespace: 'Prod' }), [`metadata.namespace: Invalid value: "Prod": ${dns1123Label}`]],
  ['no ports on ClusterIP', mk({}), ['spec.ports: Required value']],
  ['duplicate port names', mk({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), ['spec.ports[1].name: Duplicate value: "http"']],
  ['names required with two ports', mk({ ports: [{ port: 80 }, { port: 81 }] }), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']],
  ['port name not a DNS label', mk({ ports: [{ name: 'HTTP', port: 80 }] }), [`spec.ports[0].name: Invalid value: "HTTP": ${dns1123Label}`]],
  ['port name with dots', mk({ ports: [{ name: 'a.b', port: 80 }] }), ['spec.ports[0].name: Invalid value: "a.b": must not contain dots']],
  ['unsupported type', mk({ type: 'Foo' as ServiceSpec['type'], ports: p80 }), ['spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
  ['unsupported protocol', mk({ ports: [{ port: 80, protocol: 'HTTP' as 'TCP' }] }), ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
  ['duplicate port and protocol', mk({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80, targetPort: 8080 }] }), [
    'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  ]],
  ['bad named targetPort', mk({ ports: [{ port: 80, targetPort: 'HTTP_PORT' }] }), [
    'spec.ports[0].targetPort: Invalid value: "HTTP_PORT": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'spec.ports[0].targetPort: Invalid value: "HTTP_PORT": must contain at least one letter (a-z)',
  ]],
  ['targetPort name too long and hyphens', mk({ ports: [{ port: 80, targetPort: '-abcdefgh--ijklm' }] }), [
    'spec.ports[0].targetPort: Invalid value: "-abcdefgh--ijklm": must be no more than 15 characters',
    'spec.ports[0].targetPort: Invalid value: "-abcdefgh--ijklm": must not contain consecutive hyphens',
    'spec.ports[0].targetPort: Invalid value: "-abcdefgh--ijklm": must not begin or end with a hyphen',
  ]],
  ['targetPort out of range', mk({ ports: [{ port: 80, targetPort: 70000 }] }), ['spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
  ['nodePort on ClusterIP', mk({ ports: [{ port: 80, nodePort: 30001 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
  ['duplicate nodePort', mk({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] }), ['spec.ports[1].nodePort: Duplicate value: 30080']],
  ['invalid clusterIP', mk({ ports: p80, clusterIP: '300.1.1.1' }), [`spec.clusterIPs[0]: Invalid value: "300.1.1.1": ${badIP}`]],
  ['clusterIPs[0] differs from clusterIP', mk({ ports: p80, clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.6'] }), ['spec.clusterIPs: Invalid value: ["127.96.0.6"]: first value must match `clusterIP`']],
  ['clusterIPs without clusterIP', mk({ ports: p80, clusterIPs: ['127.96.0.6'] }), ['spec.clusterIPs: Invalid value: ["127.96.0.6"]: must be empty when `clusterIP` is not specified']],
  ['two IPv4 clusterIPs', mk({ ports: p80, clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5', '127.96.0.6'] }), ['spec.clusterIPs: Invalid value: ["127.96.0.5","127.96.0.6"]: may specify no more than one IP for each IP family']],
  ['three clusterIPs', mk({ ports: p80, clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5', 'fd00::5', '127.96.0.7'] }), [
    'spec.clusterIPs: Invalid value: ["127.96.0.5","fd00::5","127.96.0.7"]: may only hold up to 2 values',
    'spec.clusterIPs: Invalid value: ["127.96.0.5","fd00::5","127.96.0.7"]: may specify no more than one IP for each IP family',
  ]],
  ['None not alone', mk({ ports: p80, clusterIP: 'None', clusterIPs: ['None', '127.96.0.6'] }), ['spec.clusterIPs: Invalid value: ["None","127.96.0.6"]: \'None\' must be the first and only value']],
  ['IP family mismatch', mk({ ports: p80, clusterIP: 'fd00::5', ipFamilies: ['IPv4'] }), ['spec.clusterIPs[0]: Invalid value: "fd00::5": expected an IPv4 value as indicated by `ipFamilies[0]`']],
  ['unsupported ipFamily', mk({ ports: p80, ipFamilies: ['IPv5' as 'IPv4'] }), ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"']],
  ['duplicate ipFamily', mk({ ports: p80, ipFamilies: ['IPv4', 'IPv4'] }), ['spec.ipFamilies[1]: Duplicate value: "IPv4"']],
  ['unsupported ipFamilyPolicy', mk({ ports: p80, ipFamilyPolicy: 'Dual' as 'SingleStack' }), ['spec.ipFamilyPolicy: Unsupported value: "Dual": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"']],
  ['headless NodePort', mk({ type: 'NodePort', clusterIP: 'None', ports: p80 }), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]],
  ['headless LoadBalancer', mk({ type: 'LoadBalancer', clusterIP: 'None', ports: p80 }), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services"]],
  ['ExternalName with clusterIP', mk({ type: 'ExternalName', externalName: 'example.com', clusterIP: '127.96.0.5' }), ['spec.clusterIPs: Forbidden: may not be set for ExternalName services']],
  ['ExternalName with ipFamilies and policy', mk({ type: 'ExternalName', externalName: 'example.com', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }), [
    'spec.ipFamilies: Forbidden: may not be set for ExternalName services',
    'spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services',
  ]],
  ['ExternalName without externalName', mk({ type: 'ExternalName' }), ['spec.externalName: Required value']],
  ['ExternalName not a DNS name', mk({ type: 'ExternalName', externalName: 'Not_Valid' }), [`spec.externalName: Invalid value: "Not_Valid": ${dns1123Subdomain}`]],
  ['unsupported sessionAffinity', mk({ ports: p80, sessionAffinity: 'Sticky' as 'None' }), ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']],
  ['ClientIP timeout 0', mk({ ports: p80, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }), ['spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400']],
  ['ClientIP timeout too large', mk({ ports: p80, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } }), ['spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400']],
  ['externalTrafficPolicy on ClusterIP', mk({ ports: p80, externalTrafficPolicy: 'Local' }), ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']],
  ['unsupported externalTrafficPolicy', mk({ type: 'NodePort', ports: p80, externalTrafficPolicy: 'Foo' as 'Local' }), ['spec.externalTrafficPolicy: Unsupported value: "Foo": supported values: "Cluster", "Local"']],
  ['LB Local without healthCheckNodePort', mk({ type: 'LoadBalancer', ports: p80, externalTrafficPolicy: 'Local' }), ['spec.healthCheckNodePort: Required value']],
  ['healthCheckNodePort on NodePort', mk({ type: 'NodePort', ports: p80, healthCheckNodePort: 31000 }), ["spec.healthCheckNodePort: Invalid value: 31000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"]],
  ['unsupported internalTrafficPolicy', mk({ ports: p80, internalTrafficPolicy: 'Foo' as 'Local' }), ['spec.internalTrafficPolicy: Unsupported value: "Foo": supported values: "Cluster", "Local"']],
  ['invalid externalIP', mk({ ports: p80, externalIPs: ['1.2.3'] }), [`spec.externalIPs[0]: Invalid value: "1.2.3": ${badIP}`]],
  ['unspecified externalIP', mk({ ports: p80, externalIPs: ['0.0.0.0'] }), ['spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']],
  ['link-local externalIP', mk({ ports: p80, externalIPs: ['169.254.1.1', 'fe80::1'] }), [
    'spec.externalIPs[0]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    'spec.externalIPs[1]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
  ]],
  ['loadBalancerSourceRanges on ClusterIP', mk({ ports: p80, loadBalancerSourceRanges: ['127.0.0.0/8'] }), ["spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"]],
  ['bad loadBalancerSourceRange', mk({ type: 'LoadBalancer', ports: p80, loadBalancerSourceRanges: ['127.0.0.0/33'] }), [`spec.LoadBalancerSourceRanges[0]: Invalid value: "127.0.0.0/33": ${INVALID_CIDR_MESSAGE}`]],
  ['allocateLoadBalancerNodePorts on ClusterIP', mk({ ports: p80, allocateLoadBalancerNodePorts: false }), ["spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"]],
  ['loadBalancerClass on NodePort', mk({ type: 'NodePort', ports: p80, loadBalancerClass: 'example.com/lb' }), ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"]],
  ['selector value invalid', mk({ ports: p80, selector: { app: 'bad value' } }), [`spec.selector: Invalid value: "bad value": ${labelValue}`]],
  ['unsupported trafficDistribution', mk({ ports: p80, trafficDistribution: 'Nearest' }), ['spec.trafficDistribution: Unsupported value: "Nearest": supported values: "PreferClose"']],
  ['several errors at once', mk({ type: 'NodePort', ports: [{ port: 0, name: 'a' }, { port: 80, name: 'a' }] }), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[1].name: Duplicate value: "a"',
  ]],
];

for (const [name, svc, want] of invalidCases) {
  test(`invalid Service: ${name}`, (t) => {
    t.deepEqual(validateService(svc).map(errorString), want);
  });
}

test('loopback externalIPs are rejected when knet runs with Kubernetes rules', (t) => {
  const svc = mk({ ports: p80, externalIPs: ['127.0.0.1', '::1'] });
  t.deepEqual(validateService(svc, { allowLoopback: false }).map(errorString), [
    'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'spec.externalIPs[1]: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
});

test('missing defaults are reported as Kubernetes does for undefaulted objects', (t) => {
  const raw: Service = { metadata: { name: 'db', namespace: 'default' }, spec: { ports: [{ port: 80 }] } };
  t.deepEqual(validateService(raw).map(errorString), [
    'spec.ports[0].protocol: Required value',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.sessionAffinity: Required value',
    'spec.type: Required value',
  ]);
});

test('LoadBalancer without allocateLoadBalancerNodePorts is reported at Kubernetes\' path', (t) => {
  const svc = mk({ type: 'LoadBalancer', ports: p80 });
  delete svc.spec.allocateLoadBalancerNodePorts;
  t.deepEqual(validateService(svc).map(errorString), ['allocateLoadBalancerNodePorts: Required value']);
});
