import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Service, WatchEvent } from '@knet/api';
import { KubeClient } from './client.js';
import { ApiError, isAlreadyExists, isConflict, isGone, isNotFound } from './errors.js';
import { resources } from './resources.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { until } from './testing/poll.js';

async function setup(t: ExecutionContext, token?: string): Promise<{ fake: FakeApiServer; client: KubeClient }> {
  const fake = new FakeApiServer();
  fake.requireToken = token;
  await fake.start();
  const client = new KubeClient({ server: fake.url, token }, { userAgent: 'knet-test' });
  t.teardown(async () => {
    await client.close();
    await fake.stop();
  });
  return { fake, client };
}

function svc(name: string, ns = 'default', labels?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels }, spec: { ports: [{ port: 80 }] } };
}

test('create, get, list, update, patch, delete against the REST paths', async (t) => {
  const { fake, client } = await setup(t, 'sekret');
  const created = await client.create(resources.services, 'default', svc('db'));
  t.truthy(created.metadata.uid);
  t.truthy(created.metadata.resourceVersion);
  t.is(fake.requests.at(-1)?.headers.authorization, 'Bearer sekret');
  t.is(fake.requests.at(-1)?.headers['user-agent'], 'knet-test');
  t.is(fake.requests.at(-1)?.headers['content-type'], 'application/json');

  const got = await client.get<Service>(resources.services, 'default', 'db');
  t.deepEqual(got, created);
  t.is(fake.requests.at(-1)?.path, '/api/v1/namespaces/default/services/db');

  await client.create(resources.services, 'other', svc('web', 'other', { app: 'web' }));
  const all = await client.list<Service>(resources.services);
  t.deepEqual(all.items.map((s) => s.metadata.name).sort(), ['db', 'web']);
  t.truthy(all.metadata.resourceVersion);
  const selected = await client.list<Service>(resources.services, { labelSelector: 'app=web' });
  t.deepEqual(selected.items.map((s) => s.metadata.name), ['web']);
  t.is(fake.requests.at(-1)?.query.get('labelSelector'), 'app=web');

  const updated = await client.update(resources.services, 'default', { ...got, metadata: { ...got.metadata, labels: { v: '2' } } });
  t.deepEqual(updated.metadata.labels, { v: '2' });
  t.not(updated.metadata.resourceVersion, got.metadata.resourceVersion);
  // The old resourceVersion is stale now: optimistic concurrency says 409 Conflict.
  const stale = await t.throwsAsync(client.update(resources.services, 'default', got), { instanceOf: ApiError });
  t.true(isConflict(stale));

  const merged = await client.patch<Service>(resources.services, 'default', 'db', { metadata: { labels: { v: null, w: '3' } } }, 'merge');
  t.deepEqual(merged.metadata.labels, { w: '3' });
  t.is(fake.requests.at(-1)?.headers['content-type'], 'application/merge-patch+json');
  const jsonPatched = await client.patch<Service>(resources.services, 'default', 'db', [{ op: 'replace', path: '/metadata/labels/w', value: '4' }], 'json');
  t.deepEqual(jsonPatched.metadata.labels, { w: '4' });
  t.is(fake.requests.at(-1)?.headers['content-type'], 'application/json-patch+json');
  await client.patch(resources.services, 'default', 'db', { metadata: { labels: { s: '1' } } }, 'strategic');
  t.is(fake.requests.at(-1)?.headers['content-type'], 'application/strategic-merge-patch+json');

  await client.patch(resources.services, 'default', 'db', { status: { loadBalancer: { ingress: [{ ip: '127.200.0.1' }] } } }, 'merge', { subresource: 'status' });
  t.is(fake.requests.at(-1)?.path, '/api/v1/namespaces/default/services/db/status');

  const wrongUid = await t.throwsAsync(client.delete(resources.services, 'default', 'db', { preconditions: { uid: 'nope' } }));
  t.true(isConflict(wrongUid));
  await client.delete(resources.services, 'default', 'db', { gracePeriodSeconds: 0, preconditions: { uid: created.metadata.uid } });
  t.deepEqual(JSON.parse(fake.requests.at(-1)?.body ?? ''), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: created.metadata.uid } });
  const missing = await t.throwsAsync(client.get(resources.services, 'default', 'db'), { instanceOf: ApiError });
  t.true(isNotFound(missing));
  t.is(missing?.message, 'services "db" not found');
});

test('errors are ApiErrors with the Status the server sent', async (t) => {
  const { client } = await setup(t);
  await client.create(resources.services, 'default', svc('a'));
  const dup = await t.throwsAsync(client.create(resources.services, 'default', svc('a')), { instanceOf: ApiError });
  t.true(isAlreadyExists(dup));
  t.is(dup?.code, 409);
  t.is(dup?.status.details?.name, 'a');
});

test('a wrong token gets 401 Unauthorized as an ApiError', async (t) => {
  const fake = new FakeApiServer();
  fake.requireToken = 'right';
  await fake.start();
  const client = new KubeClient({ server: fake.url, token: 'wrong' });
  t.teardown(async () => {
    await client.close();
    await fake.stop();
  });
  const err = await t.throwsAsync(client.list(resources.pods), { instanceOf: ApiError });
  t.is(err?.reason, 'Unauthorized');
});

test('list pages with limit/continue; listAll follows continue', async (t) => {
  const { fake, client } = await setup(t);
  for (let i = 0; i < 7; i++) fake.put('pods', { metadata: { name: `p${i}`, namespace: 'default' } });
  const first = await client.list(resources.pods, { namespace: 'default', limit: 3 });
  t.is(first.items.length, 3);
  t.truthy(first.metadata.continue);
  const all = await client.listAll(resources.pods, { namespace: 'default', limit: 3 });
  t.deepEqual(all.items.map((p) => p.metadata.name), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  t.is(all.metadata.resourceVersion, first.metadata.resourceVersion);
});

test('a server path prefix is kept', async (t) => {
  const fake = new FakeApiServer();
  await fake.start();
  const client = new KubeClient({ server: `${fake.url}/` });
  t.teardown(async () => {
    await client.close();
    await fake.stop();
  });
  await client.list(resources.nodes);
  t.is(fake.requests.at(-1)?.path, '/api/v1/nodes');
});

test('bad server URLs are rejected at construction', (t) => {
  t.throws(() => new KubeClient({ server: 'not a url' }), { message: /invalid server URL/ });
  t.throws(() => new KubeClient({ server: 'ftp://127.0.0.1' }), { message: /http:\/\/ or https:\/\// });
});

test('watch streams events split at every byte, including multi-byte characters', async (t) => {
  const { fake, client } = await setup(t);
  fake.chunkBytes = 1;
  const ac = new AbortController();
  const got: WatchEvent<Service>[] = [];
  const done = (async () => {
    for await (const ev of client.watch<Service>(resources.services, { namespace: 'default', resourceVersion: fake.resourceVersion, signal: ac.signal })) got.push(ev);
  })();
  await until(() => fake.watcherCount('services') === 1, 'the watch to connect');
  fake.put('services', svc('ünï€😀-labels', 'default', { note: 'ünï€😀' }));
  fake.put('services', svc('b'));
  fake.remove('services', 'default', 'b');
  fake.put('services', svc('other-ns', 'elsewhere'));
  await until(() => got.length === 3, 'three events');
  t.deepEqual(got.map((e) => [e.type, e.object.metadata.name]), [
    ['ADDED', 'ünï€😀-labels'],
    ['ADDED', 'b'],
    ['DELETED', 'b'],
  ]);
  t.is(got[0].object.metadata.labels?.note, 'ünï€😀');
  const q = fake.watchRequests('services')[0].query;
  t.is(q.get('watch'), 'true');
  t.is(q.get('resourceVersion'), '100');
  ac.abort();
  await done; // abort ends the iteration quietly
  t.pass();
});

test('watch ends when the server ends the stream, and replays from a resourceVersion', async (t) => {
  const { fake, client } = await setup(t);
  const start = fake.resourceVersion;
  fake.put('services', svc('a'));
  fake.put('services', svc('a', 'default', { x: '1' }));
  const got: string[] = [];
  const done = (async () => {
    for await (const ev of client.watch<Service>(resources.services, { resourceVersion: start, allowWatchBookmarks: true, timeoutSeconds: 30 })) {
      got.push(`${ev.type} ${ev.object.metadata.resourceVersion}`);
    }
  })();
  await until(() => got.length === 2, 'replayed events');
  fake.bookmark();
  await until(() => got.length === 3, 'a bookmark');
  fake.endWatches();
  await done;
  t.deepEqual(got, ['ADDED 101', 'MODIFIED 102', 'BOOKMARK 102']);
  const q = fake.watchRequests('services')[0].query;
  t.is(q.get('allowWatchBookmarks'), 'true');
  t.is(q.get('timeoutSeconds'), '30');
});

test('watch from a compacted resourceVersion: HTTP 410 throws ApiError, an ERROR event is yielded', async (t) => {
  const { fake, client } = await setup(t);
  fake.put('services', svc('a'));
  fake.compact();
  fake.goneAs = 'status';
  const err = await t.throwsAsync(async () => {
    for await (const ev of client.watch(resources.services, { resourceVersion: '100' })) t.fail(`unexpected ${ev.type}`);
  });
  t.true(isGone(err));
  fake.goneAs = 'event';
  const events: WatchEvent[] = [];
  for await (const ev of client.watch(resources.services, { resourceVersion: '100' })) events.push(ev);
  t.is(events.length, 1);
  t.is(events[0].type, 'ERROR');
  t.is((events[0].object as unknown as { code: number }).code, 410);
});

test('breaking out of a watch loop, or closing the client, releases the stream', async (t) => {
  const { fake, client } = await setup(t);
  fake.put('services', svc('a'));
  fake.put('services', svc('b'));
  for await (const ev of client.watch(resources.services, {})) {
    t.is(ev.type, 'ADDED');
    break;
  }
  await until(() => fake.watcherCount() === 0, 'the server to see the stream closed');
  let n = 0;
  const pending = (async () => {
    for await (const _ of client.watch(resources.services, {})) n++;
  })();
  await until(() => n === 2, 'the second watch to deliver both objects');
  await client.close();
  await pending; // ends quietly, not with an abort error
  await until(() => fake.watcherCount() === 0, 'the server to see the second stream closed');
  await t.throwsAsync(client.list(resources.services), { message: /closed/ });
});

test('a connection refused is thrown to the caller, not swallowed', async (t) => {
  const fake = new FakeApiServer();
  await fake.start();
  await fake.stop();
  const client = new KubeClient({ server: fake.url });
  t.teardown(() => client.close());
  await t.throwsAsync(client.list(resources.services));
  await t.throwsAsync(async () => {
    for await (const _ of client.watch(resources.services, {})) t.fail();
  });
});

test('raw reaches any path, with errors as ApiError', async (t) => {
  const { fake, client } = await setup(t);
  fake.put('pods', { metadata: { name: 'p', namespace: 'default' } });
  const list = await client.raw<{ items: unknown[] }>('GET', '/api/v1/namespaces/default/pods', { query: { limit: 1 } });
  t.is(list.items.length, 1);
  t.is(fake.requests.at(-1)?.query.get('limit'), '1');
  const err = await t.throwsAsync(client.raw('GET', '/version'), { instanceOf: ApiError });
  t.true(isNotFound(err));
  await t.throwsAsync(client.raw('GET', 'version'), { instanceOf: TypeError });
});
