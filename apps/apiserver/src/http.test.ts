// Integration: a real ipam process + a real apiserver process, spoken to over HTTP with undici.
import test from 'ava';
import { client, watchEvents } from './test-client.js';
import { startControlPlane, type ControlPlane } from './testing.js';
import { until } from '@knet/component/testing';

let cp: ControlPlane;
let api: ReturnType<typeof client>;

test.before(async () => {
  cp = await startControlPlane({ apiserverArgs: ['--watch-bookmark-interval', '200ms', '--watch-window', '50', '--reconcile-interval', '200ms'] });
  api = client(cp.url);
});
test.after.always(async () => {
  await cp?.stop();
});

async function namespace(name: string): Promise<void> {
  const r = await api.post('/api/v1/namespaces', { metadata: { name } });
  if (r.status !== 201) throw new Error(`namespace ${name}: ${r.text}`);
}

function svc(name: string, extra: Record<string, unknown> = {}): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...extra } };
}

function inServiceRange(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 127 && b! >= 96 && b! < 112;
}

test('discovery documents', async (t) => {
  const v = await api.get('/version');
  t.is(v.body.gitVersion, 'v1.32.0-knet');
  t.deepEqual((await api.get('/api')).body.versions, ['v1']);
  const groups = (await api.get('/apis')).body;
  t.is(groups.kind, 'APIGroupList');
  t.is(groups.groups[0].name, 'discovery.k8s.io');
  const core = (await api.get('/api/v1')).body;
  const svcs = core.resources.find((r: any) => r.name === 'services');
  t.deepEqual(svcs.shortNames, ['svc']);
  t.true(svcs.namespaced);
  t.true(svcs.verbs.includes('watch'));
  t.truthy(core.resources.find((r: any) => r.name === 'services/status'));
  const disc = (await api.get('/apis/discovery.k8s.io/v1')).body;
  t.is(disc.resources.find((r: any) => r.name === 'endpointslices').kind, 'EndpointSlice');
  const idx = (await api.get('/openapi/v3')).body;
  t.truthy(idx.paths['api/v1'].serverRelativeURL);
  const doc = (await api.get(`/${idx.paths['api/v1'].serverRelativeURL.slice(1)}`)).body;
  t.truthy(doc.components.schemas['io.k8s.api.core.v1.Service']);
  t.is((await api.get('/openapi/v2')).status, 404);
  for (const p of ['/healthz', '/livez', '/readyz']) t.is((await api.get(p)).status, 200, p);
  const m = await api.get('/metrics');
  t.regex(m.text, /apiserver_request_total\{verb="GET",resource="",code="200"\}/);
  t.regex(m.text, /knet_store_commit_duration_seconds_count [1-9]/, 'the bootstrap objects were committed');
});

test('--fsync interval (the default): acknowledged writes are synced to disk in the background', async (t) => {
  await namespace('fsync-default');
  const synced = /knet_store_background_sync_duration_seconds_count [1-9]/;
  const m = await until('a background sync', async () => {
    const text = (await api.get('/metrics')).text;
    return synced.test(text) ? text : undefined;
  }, 5000, 100);
  t.regex(m, synced);
});

test('bootstrap: system namespaces and the kubernetes Service', async (t) => {
  const ns = (await api.get('/api/v1/namespaces')).body.items.map((n: any) => n.metadata.name);
  for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) t.true(ns.includes(n), n);
  const k = (await api.get('/api/v1/namespaces/default/services/kubernetes')).body;
  t.is(k.spec.clusterIP, '127.96.0.1');
  const port = Number(new URL(cp.url).port);
  t.deepEqual(k.spec.ports, [{ name: 'https', protocol: 'TCP', port: 443, targetPort: port }]);
  t.deepEqual(k.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
  const ep = (await api.get('/api/v1/namespaces/default/endpoints/kubernetes')).body;
  t.deepEqual(ep.subsets, [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port, protocol: 'TCP' }] }]);
  const slice = (await api.get('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).body;
  t.is(slice.addressType, 'IPv4');
  t.deepEqual(slice.endpoints[0].addresses, ['127.0.0.1']);
  t.is((await api.del('/api/v1/namespaces/default')).status, 403);
});

test('service CRUD with allocation, conflicts and Status errors', async (t) => {
  await namespace('crud');
  const base = '/api/v1/namespaces/crud/services';
  const c = await api.post(base, svc('web'));
  t.is(c.status, 201, c.text);
  t.true(inServiceRange(c.body.spec.clusterIP), c.body.spec.clusterIP);
  t.deepEqual(c.body.spec.clusterIPs, [c.body.spec.clusterIP]);
  t.deepEqual(c.body.spec.ipFamilies, ['IPv4']);
  t.is(c.body.spec.type, 'ClusterIP');
  t.truthy(c.body.metadata.uid);
  t.truthy(c.body.metadata.creationTimestamp);

  const dup = await api.post(base, svc('web'));
  t.is(dup.status, 409);
  t.is(dup.body.reason, 'AlreadyExists');
  t.is(dup.body.message, 'services "web" already exists');

  const got = await api.get(`${base}/web`);
  t.deepEqual(got.body, c.body);
  const missing = await api.get(`${base}/nope`);
  t.is(missing.status, 404);
  t.deepEqual(missing.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'services "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'services' }, code: 404 });

  const stale = structuredClone(c.body);
  const upd = structuredClone(c.body);
  upd.metadata.labels = { tier: 'front' };
  const u = await api.put(`${base}/web`, upd);
  t.is(u.status, 200, u.text);
  t.is(u.body.spec.clusterIP, c.body.spec.clusterIP);
  stale.metadata.labels = { tier: 'back' };
  const conflict = await api.put(`${base}/web`, stale);
  t.is(conflict.status, 409);
  t.is(conflict.body.reason, 'Conflict');
  t.is(conflict.body.message, 'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again');

  // a requested IP already taken
  const taken = await api.post(base, svc('db', { clusterIP: c.body.spec.clusterIP }));
  t.is(taken.status, 422);
  t.is(taken.body.reason, 'Invalid');
  t.is(taken.body.message, `Service "db" is invalid: spec.clusterIPs: Invalid value: ["${c.body.spec.clusterIP}"]: failed to allocate IP ${c.body.spec.clusterIP}: provided IP is already allocated`);
  const outside = await api.post(base, svc('db', { clusterIP: '127.1.2.3' }));
  t.is(outside.status, 422);
  t.regex(outside.body.message, /provided IP is not in the valid range\. The range of valid IPs is 127\.96\.0\.0\/12/);

  const invalid = await api.post(base, { metadata: { name: 'bad' }, spec: { ports: [{ port: 0 }] } });
  t.is(invalid.status, 422);
  t.is(invalid.body.reason, 'Invalid');
  t.true(invalid.body.details.causes.some((x: any) => x.field === 'spec.ports[0].port'));

  const del = await api.del(`${base}/web`);
  t.is(del.status, 200);
  t.is(del.body.kind, 'Service');
  t.is((await api.get(`${base}/web`)).status, 404);
  // its IP is free again
  const again = await api.post(base, svc('web2', { clusterIP: c.body.spec.clusterIP }));
  t.is(again.status, 201, again.text);
});

test('create rules: namespace must exist and match, generateName, dryRun', async (t) => {
  const r = await api.post('/api/v1/namespaces/nope/services', svc('x'));
  t.is(r.status, 404);
  t.is(r.body.message, 'namespaces "nope" not found');
  await namespace('rules');
  const mismatch = await api.post('/api/v1/namespaces/rules/services', { ...svc('x'), metadata: { name: 'x', namespace: 'other' } });
  t.is(mismatch.status, 400);
  t.is(mismatch.body.reason, 'BadRequest');
  const gen = await api.post('/api/v1/namespaces/rules/services', { spec: { ports: [{ port: 1 }] }, metadata: { generateName: 'gen-' } });
  t.is(gen.status, 201, gen.text);
  t.regex(gen.body.metadata.name, /^gen-[a-z0-9]{5}$/);
  const dry = await api.post('/api/v1/namespaces/rules/services?dryRun=All', svc('dry'));
  t.is(dry.status, 201);
  t.is((await api.get('/api/v1/namespaces/rules/services/dry')).status, 404);
  const badDry = await api.post('/api/v1/namespaces/rules/services?dryRun=Some', svc('dry'));
  t.is(badDry.status, 400);
});

test('malformed input gets Status errors', async (t) => {
  await namespace('bad');
  const base = '/api/v1/namespaces/bad/services';
  const bad = await api.post(base, '{"metadata": ');
  t.is(bad.status, 400);
  t.is(bad.body.kind, 'Status');
  t.is(bad.body.reason, 'BadRequest');
  const big = await api.post(base, JSON.stringify({ metadata: { name: 'big', annotations: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } } }));
  t.is(big.status, 413);
  t.is(big.body.reason, 'RequestEntityTooLarge');
  const yaml = await api.post(base, 'x: 1', { 'content-type': 'text/plain' });
  t.is(yaml.status, 415);
  const notObj = await api.post(base, '[1,2]');
  t.is(notObj.status, 400);
  const wrongKind = await api.post(base, { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' } });
  t.is(wrongKind.status, 400);
  const unknownPath = await api.get('/api/v1/widgets');
  t.is(unknownPath.status, 404);
  t.is(unknownPath.body.kind, 'Status');
  t.is((await api.get('/nothing/here')).status, 404);
  t.is((await api.put(base, {})).status, 405);
  t.is((await api.get(`${base}?labelSelector=a%20in%20(`)).status, 400);
  t.is((await api.get(`${base}?fieldSelector=spec.foo=1`)).status, 400);
  t.is((await api.get(`${base}?limit=abc`)).status, 400);
  t.is((await api.get(`${base}?watch=1&resourceVersion=abc`)).status, 400);
  t.is((await api.patch(`${base}/x`, '{}', 'application/xml')).status, 415);
  t.is((await api.get('/readyz')).status, 200, 'still serving');
});

test('fieldValidation Strict, Warn, Ignore', async (t) => {
  await namespace('fv');
  const base = '/api/v1/namespaces/fv/services';
  const body = (name: string) => ({ metadata: { name }, spec: { ports: [{ port: 80 }], foo: 'bar' } });
  const strict = await api.post(`${base}?fieldValidation=Strict`, body('a'));
  t.is(strict.status, 400);
  t.is(strict.body.message, 'strict decoding error: unknown field "spec.foo"');
  const warn = await api.post(`${base}?fieldValidation=Warn`, body('b'));
  t.is(warn.status, 201);
  t.is(warn.headers['warning'], '299 - "unknown field \\"spec.foo\\""');
  t.is(warn.body.spec.foo, undefined);
  const ignore = await api.post(`${base}?fieldValidation=Ignore`, body('c'));
  t.is(ignore.status, 201);
  t.is(ignore.headers['warning'], undefined);
});

test('patch: merge, json, strategic', async (t) => {
  await namespace('patch');
  const p = '/api/v1/namespaces/patch/services/web';
  t.is((await api.post('/api/v1/namespaces/patch/services', svc('web', { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }))).status, 201);
  const merge = await api.patch(p, { metadata: { labels: { a: '1' } } }, 'application/merge-patch+json');
  t.is(merge.status, 200, merge.text);
  t.deepEqual(merge.body.metadata.labels, { a: '1' });
  const json = await api.patch(p, [{ op: 'add', path: '/metadata/labels/b', value: '2' }], 'application/json-patch+json');
  t.deepEqual(json.body.metadata.labels, { a: '1', b: '2' });
  const smp = await api.patch(p, { spec: { ports: [{ port: 443, targetPort: 8443 }] } }, 'application/strategic-merge-patch+json');
  t.is(smp.status, 200, smp.text);
  t.deepEqual(smp.body.spec.ports.map((x: any) => [x.name, x.port, x.targetPort]), [['http', 80, 80], ['https', 443, 8443]]);
  const failed = await api.patch(p, [{ op: 'test', path: '/metadata/name', value: 'other' }], 'application/json-patch+json');
  t.is(failed.status, 422);
  const stale = await api.patch(p, { metadata: { resourceVersion: '1' } }, 'application/merge-patch+json');
  t.is(stale.status, 409);
  const noManager = await api.patch(p, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } }, 'application/apply-patch+yaml');
  t.is(noManager.status, 400);
  t.is(noManager.body.message, 'fieldManager is required for apply requests');
  const yaml = await api.patch(`${p}?fieldManager=me`, 'a: b', 'application/apply-patch+yaml');
  t.is(yaml.status, 400);
  const ssaCreate = await api.patch('/api/v1/namespaces/patch/services/ssa?fieldManager=me',
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ssa', labels: { a: '1', b: '2' } }, spec: { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] } },
    'application/apply-patch+yaml');
  t.is(ssaCreate.status, 201, ssaCreate.text);
  const ssa = await api.patch('/api/v1/namespaces/patch/services/ssa?fieldManager=me',
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ssa', labels: { a: '1' } }, spec: { ports: [{ name: 'a', port: 80, targetPort: 8080 }] } },
    'application/apply-patch+yaml');
  t.is(ssa.status, 200, ssa.text);
  t.deepEqual(ssa.body.metadata.labels, { a: '1' });
  t.deepEqual(ssa.body.spec.ports, [{ name: 'a', port: 80, protocol: 'TCP', targetPort: 8080 }]);
  t.is(ssa.body.spec.clusterIP, ssaCreate.body.spec.clusterIP);
  const immutable = await api.patch(p, { spec: { clusterIP: '127.96.9.9', clusterIPs: ['127.96.9.9'] } }, 'application/merge-patch+json');
  t.is(immutable.status, 422, immutable.text);
});

test('NodePort allocation, conflicts and type changes', async (t) => {
  await namespace('np');
  const base = '/api/v1/namespaces/np/services';
  const a = await api.post(base, svc('a', { type: 'NodePort' }));
  t.is(a.status, 201, a.text);
  const port = a.body.spec.ports[0].nodePort;
  t.true(port >= 30000 && port <= 32767, String(port));
  t.is(a.body.spec.externalTrafficPolicy, 'Cluster');
  const clash = await api.post(base, svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
  t.is(clash.status, 422);
  t.is(clash.body.message, `Service "b" is invalid: spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`);
  // NodePort → ClusterIP releases the port
  const down = await api.patch(`${base}/a`, { spec: { type: 'ClusterIP' } }, 'application/merge-patch+json');
  t.is(down.status, 200, down.text);
  t.is(down.body.spec.ports[0].nodePort, undefined);
  const b = await api.post(base, svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
  t.is(b.status, 201, b.text);
  // ClusterIP → NodePort allocates
  const up = await api.patch(`${base}/a`, { spec: { type: 'NodePort' } }, 'application/merge-patch+json');
  t.is(up.status, 200, up.text);
  t.true(up.body.spec.ports[0].nodePort >= 30000);
  t.not(up.body.spec.ports[0].nodePort, port);
  // ExternalName ↔ ClusterIP
  const ext = await api.post(base, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  t.is(ext.status, 201, ext.text);
  t.is(ext.body.spec.clusterIP, undefined);
  const toCIP = await api.patch(`${base}/ext`, { spec: { type: 'ClusterIP', externalName: null, ports: [{ port: 80 }] } }, 'application/merge-patch+json');
  t.is(toCIP.status, 200, toCIP.text);
  t.true(inServiceRange(toCIP.body.spec.clusterIP));
  const back = await api.patch(`${base}/ext`, { spec: { type: 'ExternalName', externalName: 'example.org' } }, 'application/merge-patch+json');
  t.is(back.status, 200, back.text);
  t.is(back.body.spec.clusterIP, undefined);
  const reuse = await api.post(base, svc('reuse', { clusterIP: toCIP.body.spec.clusterIP }));
  t.is(reuse.status, 201, 'the released IP can be requested again');
  // headless gets no IP
  const headless = await api.post(base, svc('hl', { clusterIP: 'None' }));
  t.is(headless.status, 201, headless.text);
  t.deepEqual(headless.body.spec.clusterIPs, ['None']);
});

test('list: selectors, limit and continue', async (t) => {
  await namespace('list');
  const base = '/api/v1/namespaces/list/services';
  for (let i = 0; i < 5; i++) {
    const r = await api.post(base, { metadata: { name: `s${i}`, labels: { parity: i % 2 ? 'odd' : 'even' } }, spec: { ports: [{ port: 80 }] } });
    t.is(r.status, 201, r.text);
  }
  const odd = await api.get(`${base}?labelSelector=parity%3Dodd`);
  t.deepEqual(odd.body.items.map((s: any) => s.metadata.name), ['s1', 's3']);
  t.is(odd.body.kind, 'ServiceList');
  const byName = await api.get(`${base}?fieldSelector=metadata.name%3Ds2`);
  t.deepEqual(byName.body.items.map((s: any) => s.metadata.name), ['s2']);
  const page1 = await api.get(`${base}?limit=2`);
  t.is(page1.body.items.length, 2);
  t.truthy(page1.body.metadata.continue);
  const page2 = await api.get(`${base}?limit=10&continue=${encodeURIComponent(page1.body.metadata.continue)}`);
  t.deepEqual(page2.body.items.map((s: any) => s.metadata.name), ['s2', 's3', 's4']);
  const all = await api.get('/api/v1/services');
  t.true(all.body.items.length >= 6);
});

test.serial('watch: initial state, changes, resume, bookmarks, 410', async (t) => {
  await namespace('watch');
  const base = '/api/v1/namespaces/watch/services';
  const first = await api.post(base, svc('one'));
  const events = await watchEvents(cp.url, `${base}?watch=1`, (ev) => ev.some((e) => e.type === 'MODIFIED'), {
    onOpen: async () => {
      await api.patch(`${base}/one`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    },
  });
  t.is(events[0].type, 'ADDED');
  t.is(events[0].object.metadata.name, 'one');
  const mod = events.find((e) => e.type === 'MODIFIED');
  t.deepEqual(mod.object.metadata.labels, { x: 'y' });

  // resume from the create's RV: replays the MODIFIED only
  const resumed = await watchEvents(cp.url, `${base}?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`, (ev) => ev.length >= 1);
  t.is(resumed[0].type, 'MODIFIED');

  // bookmarks
  const bm = await watchEvents(cp.url, `${base}?watch=1&allowWatchBookmarks=true&resourceVersion=${mod.object.metadata.resourceVersion}`,
    (ev) => ev.some((e) => e.type === 'BOOKMARK'));
  const b = bm.find((e) => e.type === 'BOOKMARK');
  t.truthy(b);
  t.is(b.object.kind, 'Service');
  t.truthy(b.object.metadata.resourceVersion);

  // label selector: an object that stops matching is DELETED for this watcher
  const sel = await watchEvents(cp.url, `${base}?watch=1&labelSelector=x%3Dy`, (ev) => ev.some((e) => e.type === 'DELETED'), {
    onOpen: async () => {
      await api.patch(`${base}/one`, { metadata: { labels: { x: 'z' } } }, 'application/merge-patch+json');
    },
  });
  t.deepEqual(sel.map((e) => e.type), ['ADDED', 'DELETED']);

  // one object, and the deprecated /watch/ prefix
  const single = await watchEvents(cp.url, `${base}/one?watch=true`, (ev) => ev.length >= 1);
  t.is(single[0].object.metadata.name, 'one');
  const legacy = await watchEvents(cp.url, `/api/v1/watch/namespaces/watch/services`, (ev) => ev.length >= 1);
  t.is(legacy[0].type, 'ADDED');

  // timeoutSeconds ends the stream
  const timed = await watchEvents(cp.url, `${base}?watch=1&timeoutSeconds=1&resourceVersion=${first.body.metadata.resourceVersion}`, () => false);
  t.true(timed.length >= 1);

  // the window keeps 50 events: push it past the create's RV
  for (let i = 0; i < 60; i++) await api.patch(`${base}/one`, { metadata: { labels: { n: String(i) } } }, 'application/merge-patch+json');
  const gone = await watchEvents(cp.url, `${base}?watch=1&resourceVersion=${first.body.metadata.resourceVersion}`, (ev) => ev.length >= 1);
  t.is(gone[0].type, 'ERROR');
  t.is(gone[0].object.code, 410);
  t.is(gone[0].object.reason, 'Expired');
});

test('server-side tables for get, list and watch', async (t) => {
  await namespace('tables');
  const base = '/api/v1/namespaces/tables/services';
  await api.post(base, svc('web'));
  const accept = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
  const list = await api.get(base, accept);
  t.is(list.body.kind, 'Table');
  t.deepEqual(list.body.columnDefinitions.map((c: any) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  t.is(list.body.rows[0].cells[0], 'web');
  t.is(list.body.rows[0].object.kind, 'PartialObjectMetadata');
  t.truthy(list.body.metadata.resourceVersion);
  const one = await api.get(`${base}/web?includeObject=Object`, accept);
  t.is(one.body.rows.length, 1);
  t.is(one.body.rows[0].object.kind, 'Service');
  const ev = await watchEvents(cp.url, `${base}?watch=1`, (e) => e.length >= 1, { headers: accept });
  t.is(ev[0].object.kind, 'Table');
  t.is(ev[0].object.rows.length, 1);
});

test('namespace deletion removes its objects and frees their IPs', async (t) => {
  await namespace('doomed');
  const s = await api.post('/api/v1/namespaces/doomed/services', svc('x'));
  t.is(s.status, 201);
  await api.post('/api/v1/namespaces/doomed/endpoints', { metadata: { name: 'x' }, subsets: [] });
  const d = await api.del('/api/v1/namespaces/doomed');
  t.is(d.status, 200, d.text);
  t.is(d.body.status.phase, 'Terminating');
  t.is((await api.get('/api/v1/namespaces/doomed')).status, 404);
  t.is((await api.get('/api/v1/namespaces/doomed/services/x')).status, 404);
  await namespace('reborn');
  const again = await api.post('/api/v1/namespaces/reborn/services', svc('x', { clusterIP: s.body.spec.clusterIP }));
  t.is(again.status, 201, again.text);
});

test('delete preconditions and other kinds', async (t) => {
  await namespace('kinds');
  const ep = await api.put('/api/v1/namespaces/kinds/endpoints/e', { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '127.244.0.5' }], ports: [{ port: 80 }] }] });
  t.is(ep.status, 201, `endpoints may be created by PUT: ${ep.text}`);
  t.is(ep.body.subsets[0].ports[0].protocol, 'TCP');
  const pre = await api.del('/api/v1/namespaces/kinds/endpoints/e', { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'wrong' } });
  t.is(pre.status, 409);
  const ok = await api.del('/api/v1/namespaces/kinds/endpoints/e', { preconditions: { uid: ep.body.metadata.uid } });
  t.is(ok.status, 200);
  t.is(ok.body.kind, 'Status');
  t.is(ok.body.status, 'Success');
  const node = await api.post('/api/v1/nodes', { metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } });
  t.is(node.status, 201, node.text);
  t.is(node.body.metadata.namespace, undefined);
  const st = await api.patch('/api/v1/nodes/node-1/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'application/strategic-merge-patch+json');
  t.is(st.status, 200, st.text);
  t.is(st.body.status.conditions[0].type, 'Ready');
  const slice = await api.post('/apis/discovery.k8s.io/v1/namespaces/kinds/endpointslices', {
    metadata: { name: 's1', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4',
    endpoints: [{ addresses: ['127.244.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  t.is(slice.status, 201, slice.text);
  const pod = await api.post('/api/v1/namespaces/kinds/pods', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  t.is(pod.status, 201, pod.text);
  const podStatus = await api.patch('/api/v1/namespaces/kinds/pods/p/status', { status: { podIP: '127.244.0.9', phase: 'Running' } }, 'application/merge-patch+json');
  t.is(podStatus.status, 200, podStatus.text);
  t.is(podStatus.body.status.podIP, '127.244.0.9');
});

test('1,000 concurrent creates get 1,000 distinct ClusterIPs', async (t) => {
  await namespace('bulk');
  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => api.post('/api/v1/namespaces/bulk/services', svc(`s${i}`))));
  const failed = results.filter((r) => r.status !== 201);
  t.is(failed.length, 0, failed[0]?.text);
  const ips = new Set(results.map((r) => r.body.spec.clusterIP));
  t.is(ips.size, 1000);
  for (const ip of ips) t.true(inServiceRange(ip as string));
});

test('type mismatches are 400, deletecollection deletes by selector', async (t) => {
  await namespace('types');
  const base = '/api/v1/namespaces/types/services';
  const r = await api.post(base, { metadata: { name: 'x' }, spec: { ports: [{ port: '80' }] } });
  t.is(r.status, 400, r.text);
  t.regex(r.body.message, /spec\.ports\[0\]\.port: expected an integer/);
  t.is((await api.post(base, { metadata: { name: 'x', labels: { a: 1 } }, spec: {} })).status, 400);
  t.is((await api.post(base, { metadata: 'x' })).status, 400);
  for (const n of ['a', 'b', 'c']) {
    t.is((await api.post(base, { metadata: { name: n, labels: { del: n === 'c' ? 'no' : 'yes' } }, spec: { ports: [{ port: 80 }] } })).status, 201);
  }
  const dc = await api.del(`${base}?labelSelector=del%3Dyes`);
  t.is(dc.status, 200, dc.text);
  t.deepEqual(dc.body.items.map((s: any) => s.metadata.name), ['a', 'b']);
  t.deepEqual((await api.get(base)).body.items.map((s: any) => s.metadata.name), ['c']);
});

test('fuzz: random bodies never produce a 5xx or kill the server', async (t) => {
  await namespace('fuzz');
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const atoms: unknown[] = [null, 0, -1, 1.5, 70000, '', 'x', 'None', '127.96.0.1', '::1', true, [], {}, [1, 'a'], { a: null }, '__proto__'];
  const keys = ['metadata', 'name', 'spec', 'ports', 'port', 'targetPort', 'nodePort', 'clusterIP', 'clusterIPs', 'type', 'selector', 'labels',
    'subsets', 'addresses', 'ip', 'containers', 'status', 'ipFamilies', 'ipFamilyPolicy', 'externalName', 'endpoints', 'conditions', '__proto__', '$patch'];
  const value = (depth: number): unknown => {
    if (depth > 3 || rnd(3) === 0) return atoms[rnd(atoms.length)];
    if (rnd(2) === 0) return Array.from({ length: rnd(3) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(4); i >= 0; i--) o[keys[rnd(keys.length)]!] = value(depth + 1);
    return o;
  };
  const paths = ['/api/v1/namespaces/fuzz/services', '/api/v1/namespaces/fuzz/pods', '/api/v1/namespaces/fuzz/endpoints', '/api/v1/nodes',
    '/apis/discovery.k8s.io/v1/namespaces/fuzz/endpointslices', '/api/v1/namespaces'];
  const types = ['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json'];
  const bad: string[] = [];
  for (let i = 0; i < 400; i++) {
    const p = paths[rnd(paths.length)]!;
    const body = rnd(4) === 0 ? value(0) : { metadata: { name: `f${rnd(5)}` }, spec: value(1), ...(rnd(2) ? { subsets: value(1) } : {}), status: value(2) };
    let r;
    switch (rnd(4)) {
      case 0: r = await api.post(p, JSON.stringify(body)); break;
      case 1: r = await api.put(`${p}/f${rnd(5)}`, JSON.stringify(body)); break;
      case 2: r = await api.patch(`${p}/f${rnd(5)}`, JSON.stringify(body), types[rnd(types.length)]!); break;
      default: r = await api.patch(`${p}/f${rnd(5)}/status`, JSON.stringify(body), types[rnd(types.length)]!); break;
    }
    if (r.status >= 500) bad.push(`${p} ${JSON.stringify(body)} → ${r.text}`);
    else if (r.status >= 400 && r.body?.kind !== 'Status') bad.push(`${p} → non-Status ${r.text}`);
  }
  t.deepEqual(bad.slice(0, 5), []);
  t.is((await api.get('/healthz')).status, 200);
});

test.serial('a continue token older than the event window is 410 Expired', async (t) => {
  await namespace('cont');
  const base = '/api/v1/namespaces/cont/endpoints';
  for (const n of ['a', 'b']) t.is((await api.post(base, { metadata: { name: n }, subsets: [] })).status, 201);
  const page = await api.get(`${base}?limit=1`);
  t.truthy(page.body.metadata.continue);
  for (let i = 0; i < 60; i++) await api.patch(`${base}/a`, { metadata: { labels: { n: String(i) } } }, 'application/merge-patch+json');
  const r = await api.get(`${base}?limit=1&continue=${encodeURIComponent(page.body.metadata.continue)}`);
  t.is(r.status, 410, `${r.text} token=${page.body.metadata.continue}`);
  t.is(r.body.reason, 'Expired');
  t.is((await api.get(`${base}?limit=1&continue=garbage`)).status, 400);
});

test.serial('a deleted kubernetes Service is recreated', async (t) => {
  const before = await api.get('/api/v1/namespaces/default/services/kubernetes');
  t.is((await api.del('/api/v1/namespaces/default/services/kubernetes')).status, 200);
  const deadline = Date.now() + 10_000;
  let after = await api.get('/api/v1/namespaces/default/services/kubernetes');
  while (after.status !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    after = await api.get('/api/v1/namespaces/default/services/kubernetes');
  }
  t.is(after.status, 200);
  t.not(after.body.metadata.uid, before.body.metadata.uid);
  t.is(after.body.spec.clusterIP, '127.96.0.1');
});

test('graceful pod deletion: a running pod turns terminating, then goes when its kubelet (or the grace period) ends it', async (t) => {
  const pod = (name: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'g' } },
    spec: { nodeName: 'node-a', terminationGracePeriodSeconds: 1, containers: [{ name: 'c' }], ...extra },
    status: { phase: 'Running', podIP: '127.244.0.77' },
  });
  t.is((await api.post('/api/v1/namespaces/default/pods', pod('grace-1'))).status, 201);
  const marked = await api.del('/api/v1/namespaces/default/pods/grace-1', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 30 });
  t.is(marked.status, 200);
  t.truthy(marked.body.metadata.deletionTimestamp);
  t.is(marked.body.metadata.deletionGracePeriodSeconds, 30);
  // a status write keeps it terminating; a later DELETE with 0 removes it
  const patched = await api.patch('/api/v1/namespaces/default/pods/grace-1/status', { status: { phase: 'Running' } }, 'application/merge-patch+json');
  t.is(patched.body.metadata.deletionTimestamp, marked.body.metadata.deletionTimestamp);
  t.is((await api.del('/api/v1/namespaces/default/pods/grace-1', { gracePeriodSeconds: 0 })).status, 200);
  t.is((await api.get('/api/v1/namespaces/default/pods/grace-1')).status, 404);

  // nobody finishes it: gone once its own 1 s grace period is over
  t.is((await api.post('/api/v1/namespaces/default/pods', pod('grace-2'))).status, 201);
  t.truthy((await api.del('/api/v1/namespaces/default/pods/grace-2')).body.metadata.deletionTimestamp);
  const deadline = Date.now() + 10_000;
  while ((await api.get('/api/v1/namespaces/default/pods/grace-2')).status !== 404) {
    if (Date.now() > deadline) return t.fail('terminating pod was never removed');
    await new Promise((r) => setTimeout(r, 50));
  }
  // never scheduled → deleted at once
  t.is((await api.post('/api/v1/namespaces/default/pods', pod('grace-3', { nodeName: undefined }))).status, 201);
  t.is((await api.del('/api/v1/namespaces/default/pods/grace-3')).status, 200);
  t.is((await api.get('/api/v1/namespaces/default/pods/grace-3')).status, 404);
});
