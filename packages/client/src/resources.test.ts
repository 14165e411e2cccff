import test from 'ava';
import { apiVersionOf, resourcePath, resources } from './resources.js';

const cases: [string, string, string | undefined, string | undefined, string | undefined, string][] = [
  ['namespaced collection', 'services', 'default', undefined, undefined, '/api/v1/namespaces/default/services'],
  ['all namespaces', 'services', undefined, undefined, undefined, '/api/v1/services'],
  ['object', 'endpoints', 'prod', 'db', undefined, '/api/v1/namespaces/prod/endpoints/db'],
  ['status', 'services', 'prod', 'db', 'status', '/api/v1/namespaces/prod/services/db/status'],
  ['cluster-scoped', 'nodes', undefined, 'n1', undefined, '/api/v1/nodes/n1'],
  ['cluster-scoped ignores namespace', 'namespaces', 'x', 'kube-system', undefined, '/api/v1/namespaces/kube-system'],
  ['group', 'endpointslices', 'prod', 'db-abc', undefined, '/apis/discovery.k8s.io/v1/namespaces/prod/endpointslices/db-abc'],
  ['encoded', 'services', 'a b', 'x/y', undefined, '/api/v1/namespaces/a%20b/services/x%2Fy'],
];
for (const [title, res, ns, name, sub, want] of cases) {
  test(`resourcePath: ${title}`, (t) => {
    t.is(resourcePath(resources[res as keyof typeof resources], ns, name, sub), want);
  });
}

test('resourcePath rejects an object of a namespaced resource without a namespace, and empty names', (t) => {
  t.throws(() => resourcePath(resources.services, undefined, 'x'), { instanceOf: TypeError });
  t.throws(() => resourcePath(resources.services, 'default', ''), { instanceOf: TypeError });
});

test('apiVersionOf', (t) => {
  t.is(apiVersionOf(resources.pods), 'v1');
  t.is(apiVersionOf(resources.endpointslices), 'discovery.k8s.io/v1');
});
