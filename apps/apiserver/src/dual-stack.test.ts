// Dual-stack allocation rules against a real ipam configured with an IPv4 and an IPv6 range
// (IPv6 addresses are data only here: nothing is sent to them).
import test from 'ava';
import { client } from './test-client.js';
import { startControlPlane, type ControlPlane } from './testing.js';

let cp: ControlPlane;
test.before(async () => {
  cp = await startControlPlane({ serviceCIDR: '127.96.0.0/12,fd00:10:96::/108' });
});
test.after.always(async () => {
  await cp?.stop();
});

const body = (name: string, spec: Record<string, unknown>) => ({ metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } });

test('ipFamilyPolicy and ipFamilies', async (t) => {
  const api = client(cp.url);
  const base = '/api/v1/namespaces/default/services';
  const single = await api.post(base, body('single', {}));
  t.is(single.status, 201, single.text);
  t.deepEqual(single.body.spec.ipFamilies, ['IPv4']);
  t.is(single.body.spec.ipFamilyPolicy, 'SingleStack');
  const v6 = await api.post(base, body('v6', { ipFamilies: ['IPv6'] }));
  t.is(v6.status, 201, v6.text);
  t.regex(v6.body.spec.clusterIP, /^fd00:10:96::/);
  const prefer = await api.post(base, body('prefer', { ipFamilyPolicy: 'PreferDualStack' }));
  t.is(prefer.status, 201, prefer.text);
  t.deepEqual(prefer.body.spec.ipFamilies, ['IPv4', 'IPv6']);
  t.is(prefer.body.spec.clusterIPs.length, 2);
  t.is(prefer.body.spec.clusterIP, prefer.body.spec.clusterIPs[0]);
  const require6 = await api.post(base, body('req6', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }));
  t.is(require6.status, 201, require6.text);
  t.deepEqual(require6.body.spec.ipFamilies, ['IPv6', 'IPv4']);
  t.regex(require6.body.spec.clusterIPs[0], /:/);
  const del = await api.del(`${base}/prefer`);
  t.is(del.status, 200);
  const reuse = await api.post(base, body('reuse', { ipFamilyPolicy: 'RequireDualStack', clusterIP: prefer.body.spec.clusterIP, clusterIPs: prefer.body.spec.clusterIPs }));
  t.is(reuse.status, 201, `both released IPs can be requested again: ${reuse.text}`);
});

test('single-stack cluster refuses RequireDualStack and unconfigured families', async (t) => {
  const single = await startControlPlane();
  t.teardown(() => single.stop());
  const api = client(single.url);
  const r = await api.post('/api/v1/namespaces/default/services', body('dual', { ipFamilyPolicy: 'RequireDualStack' }));
  t.is(r.status, 422, r.text);
  t.regex(r.body.message, /spec\.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services/);
  const v6 = await api.post('/api/v1/namespaces/default/services', body('v6', { ipFamilies: ['IPv6'] }));
  t.is(v6.status, 422, v6.text);
  const prefer = await api.post('/api/v1/namespaces/default/services', body('prefer', { ipFamilyPolicy: 'PreferDualStack' }));
  t.is(prefer.status, 201, prefer.text);
  t.deepEqual(prefer.body.spec.ipFamilies, ['IPv4']);
});
