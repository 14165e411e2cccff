import test from 'ava';
import {
  aggregateString,
  duplicate,
  errorString,
  forbidden,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  type FieldError,
} from './field-errors.js';
import {
  OptimisticLockErrorMsg,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  gone,
  internalError,
  invalidStatus,
  isStatus,
  methodNotAllowed,
  notFound,
  serviceUnavailable,
  tooLarge,
  tooManyRequests,
  unsupportedMediaType,
} from './status-errors.js';

const rendering: [string, FieldError, string][] = [
  ['invalid number', invalid('spec.ports[0].port', 0, 'must be between 1 and 65535, inclusive'), 'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive'],
  ['required with detail', required('metadata.name', 'name or generateName is required'), 'metadata.name: Required value: name or generateName is required'],
  ['required bare', required('spec.ports'), 'spec.ports: Required value'],
  ['duplicate string', duplicate('spec.ports[1].name', 'http'), 'spec.ports[1].name: Duplicate value: "http"'],
  ['not supported', notSupported('spec.type', 'Foo', ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']), 'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
  ['forbidden', forbidden('spec.clusterIPs', 'may not be set for ExternalName services'), 'spec.clusterIPs: Forbidden: may not be set for ExternalName services'],
  ['too long hides the value', tooLong('metadata.annotations', 'x'.repeat(10), 262144), 'metadata.annotations: Too long: must have at most 262144 bytes'],
  ['too many', tooMany('endpoints', 1001, 1000), 'endpoints: Too many: 1001: must have at most 1000 items'],
  ['array as JSON', invalid('spec.clusterIPs', ['127.96.0.5'], 'x'), 'spec.clusterIPs: Invalid value: ["127.96.0.5"]: x'],
  ['null value', invalid('spec.ipFamilyPolicy', null, 'x'), 'spec.ipFamilyPolicy: Invalid value: null: x'],
  ['boolean', invalid('f', true, 'x'), 'f: Invalid value: true: x'],
  ['quotes escaped as Go does', invalid('f', 'a"b\\c\n', 'x'), 'f: Invalid value: "a\\"b\\\\c\\n": x'],
];

for (const [name, err, want] of rendering) {
  test(`errorString: ${name}`, (t) => {
    t.is(errorString(err), want);
  });
}

test('aggregateString: one error plain, several bracketed, duplicates dropped', (t) => {
  const a = required('a');
  const b = required('b');
  t.is(aggregateString([a]), 'a: Required value');
  t.is(aggregateString([a, b, a]), '[a: Required value, b: Required value]');
});

test('invalidStatus: one cause', (t) => {
  const s = invalidStatus('Service', '', 'db', [invalid('spec.ports[0].port', 0, 'must be between 1 and 65535, inclusive')]);
  t.deepEqual(s, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Service "db" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    reason: 'Invalid',
    details: {
      name: 'db',
      kind: 'Service',
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive', field: 'spec.ports[0].port' }],
    },
    code: 422,
  });
});

test('invalidStatus: several causes and a group', (t) => {
  const s = invalidStatus('EndpointSlice', 'discovery.k8s.io', 'x', [required('addressType'), duplicate('ports[1].name', 'http')]);
  t.is(s.message, 'EndpointSlice.discovery.k8s.io "x" is invalid: [addressType: Required value, ports[1].name: Duplicate value: "http"]');
  t.is(s.details?.group, 'discovery.k8s.io');
  t.deepEqual(s.details?.causes?.map((c) => c.reason), ['FieldValueRequired', 'FieldValueDuplicate']);
  t.deepEqual(s.details?.causes?.map((c) => c.message), ['Required value', 'Duplicate value: "http"']);
});

const statuses: [string, ReturnType<typeof notFound>, number, string, string][] = [
  ['notFound', notFound('services', 'x'), 404, 'NotFound', 'services "x" not found'],
  ['notFound grouped', notFound('endpointslices', 'x', 'discovery.k8s.io'), 404, 'NotFound', 'endpointslices.discovery.k8s.io "x" not found'],
  ['alreadyExists', alreadyExists('services', 'x'), 409, 'AlreadyExists', 'services "x" already exists'],
  ['conflict', conflict('services', 'x', OptimisticLockErrorMsg), 409, 'Conflict',
    'Operation cannot be fulfilled on services "x": the object has been modified; please apply your changes to the latest version and try again'],
  ['badRequest', badRequest('bad'), 400, 'BadRequest', 'bad'],
  ['gone', gone('too old resource version: 1 (5)'), 410, 'Gone', 'too old resource version: 1 (5)'],
  ['expired', expired('too old resource version: 1 (5)'), 410, 'Expired', 'too old resource version: 1 (5)'],
  ['internalError', internalError('boom'), 500, 'InternalError', 'Internal error occurred: boom'],
  ['serviceUnavailable', serviceUnavailable('ipam down'), 503, 'ServiceUnavailable', 'ipam down'],
  ['tooLarge', tooLarge('limit is 3145728'), 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'],
  ['unsupportedMediaType', unsupportedMediaType(['application/json']), 415, 'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json'],
  ['methodNotAllowed', methodNotAllowed('endpoints', 'deletecollection'), 405, 'MethodNotAllowed',
    'deletecollection is not supported on resources of kind "endpoints"'],
  ['tooManyRequests', tooManyRequests('slow down', 1), 429, 'TooManyRequests', 'slow down'],
];

for (const [name, s, code, reason, message] of statuses) {
  test(`status: ${name}`, (t) => {
    t.true(isStatus(s));
    t.is(s.kind, 'Status');
    t.is(s.apiVersion, 'v1');
    t.is(s.status, 'Failure');
    t.is(s.code, code);
    t.is(s.reason as string, reason);
    t.is(s.message, message);
  });
}

test('status: notFound details name the resource as kind', (t) => {
  t.deepEqual(notFound('services', 'x').details, { name: 'x', kind: 'services' });
  t.deepEqual(tooManyRequests('m', 3).details, { retryAfterSeconds: 3 });
  t.false(isStatus({ kind: 'Service' }));
});
