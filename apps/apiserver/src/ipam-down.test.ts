// Without ipam, Service writes that need an allocation answer 503 and store nothing; other kinds work.
import test from 'ava';
import { client } from './test-client.js';
import { startControlPlane, type ControlPlane } from './testing.js';

let cp: ControlPlane;

test.before(async () => {
  cp = await startControlPlane();
});
test.after.always(async () => {
  await cp?.stop();
});

test.serial('ipam unavailable → 503 ServiceUnavailable and nothing stored', async (t) => {
  const api = client(cp.url);
  await cp.stopIpam();
  const r = await api.post('/api/v1/namespaces/default/services', { metadata: { name: 'orphan' }, spec: { ports: [{ port: 80 }] } });
  t.is(r.status, 503, r.text);
  t.is(r.body.kind, 'Status');
  t.is(r.body.reason, 'ServiceUnavailable');
  t.is((await api.get('/api/v1/namespaces/default/services/orphan')).status, 404);
  const ext = await api.post('/api/v1/namespaces/default/services', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  t.is(ext.status, 201, 'ExternalName needs no allocation');
  const ep = await api.post('/api/v1/namespaces/default/endpoints', { metadata: { name: 'e' }, subsets: [] });
  t.is(ep.status, 201);
});

test.serial('restart keeps objects and re-bootstraps idempotently', async (t) => {
  const api = client(cp.url);
  const before = (await api.get('/api/v1/namespaces/default/services/kubernetes')).body;
  t.truthy(before.metadata?.uid);
  await cp.stopApiserver();
  await cp.startApiserver();
  const after = (await api.get('/api/v1/namespaces/default/services/kubernetes')).body;
  t.is(after.metadata.uid, before.metadata.uid);
  t.is((await api.get('/api/v1/namespaces/default/services/ext')).status, 200);
});
