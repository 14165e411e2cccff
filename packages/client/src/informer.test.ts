import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { KubeObject, Pod } from '@knet/api';
import { KubeClient } from './client.js';
import { Informer, type InformerOptions, type Logger } from './informer.js';
import { resources } from './resources.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { until } from './testing/poll.js';

interface Harness {
  fake: FakeApiServer;
  client: KubeClient;
  informer: Informer<Pod>;
  events: string[];
  logs: { level: string; obj: Record<string, unknown>; msg?: string }[];
}

function capture(logs: Harness['logs']): Logger {
  const at = (level: string) => (obj: object, msg?: string) => logs.push({ level, obj: obj as Record<string, unknown>, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function setup(t: ExecutionContext, opts: InformerOptions<Pod> = {}, seed: (f: FakeApiServer) => void = () => {}): Promise<Harness> {
  const fake = new FakeApiServer();
  seed(fake);
  await fake.start();
  const client = new KubeClient({ server: fake.url });
  const logs: Harness['logs'] = [];
  const informer = new Informer<Pod>(client, resources.pods, { backoff: { initialMs: 5, maxMs: 50 }, log: capture(logs), ...opts });
  const events: string[] = [];
  informer
    .on('add', (o) => events.push(`add ${key(o)} ${o.metadata.resourceVersion}`))
    .on('update', (o, old) => events.push(`update ${key(o)} ${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`))
    .on('delete', (o) => events.push(`delete ${key(o)}`));
  t.teardown(async () => {
    await informer.stop();
    await client.close();
    await fake.stop();
  });
  return { fake, client, informer, events, logs };
}

/** Starts the informer and waits for its list to sync and its watch to open. */
async function startWatching(h: Harness): Promise<void> {
  h.informer.start();
  await h.informer.waitForSync();
  await until(() => h.fake.watcherCount() === 1, 'the watch');
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

function pod(name: string, labels: Record<string, string> = {}, ns = 'default'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'c' }] } };
}

/** The informer's cache as name@rv, sorted, to compare with the server's truth. */
function cacheView(i: Informer<Pod>): string[] {
  return i.list().map((p) => `${key(p)}@${p.metadata.resourceVersion}`).sort();
}

async function serverView(h: Harness): Promise<string[]> {
  const l = await h.client.list<Pod>(resources.pods);
  return l.items.map((p) => `${key(p)}@${p.metadata.resourceVersion}`).sort();
}

test('list then watch delivers adds, updates and deletes; the cache follows', async (t) => {
  const h = await setup(t, {}, (f) => {
    f.put('pods', pod('a'));
    f.put('pods', pod('b', {}, 'kube-system'));
  });
  t.false(h.informer.hasSynced());
  h.informer.start();
  await h.informer.waitForSync();
  t.true(h.informer.hasSynced());
  t.deepEqual(h.events.sort(), ['add default/a 101', 'add kube-system/b 102']);
  t.is(h.informer.lastResourceVersion(), '102');
  t.is(h.fake.listRequests('pods').length, 1);
  await until(() => h.fake.watcherCount('pods') === 1, 'the watch');
  t.is(h.fake.watchRequests('pods')[0].query.get('resourceVersion'), '102');
  t.is(h.fake.watchRequests('pods')[0].query.get('allowWatchBookmarks'), 'true');

  h.events.length = 0;
  h.fake.put('pods', pod('c'));
  h.fake.put('pods', pod('a', { v: '2' }));
  h.fake.remove('pods', 'kube-system', 'b');
  await until(() => h.events.length === 3, 'three events');
  t.deepEqual(h.events, ['add default/c 103', 'update default/a 101->104', 'delete kube-system/b']);
  t.deepEqual(h.informer.get('default', 'a')?.metadata.labels, { v: '2' });
  t.is(h.informer.get('kube-system', 'b'), undefined);
  t.deepEqual(h.informer.list('default').map((p) => p.metadata.name).sort(), ['a', 'c']);
  t.deepEqual(h.informer.list('kube-system'), []);
  t.is(h.informer.lastResourceVersion(), '105');
});

test('a transform shapes what is cached and handed to handlers, listed and watched alike', async (t) => {
  const slim = (p: Pod): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata.name, namespace: p.metadata.namespace, resourceVersion: p.metadata.resourceVersion, labels: p.metadata.labels }, spec: { containers: [] } });
  const h = await setup(t, { transform: slim }, (f) => f.put('pods', pod('a', { v: '1' })));
  const seen: Pod[] = [];
  h.informer.on('add', (p) => seen.push(p)).on('update', (p) => seen.push(p));
  await startWatching(h);
  h.fake.put('pods', pod('b'));
  h.fake.put('pods', pod('a', { v: '2' }));
  await until(() => h.events.length === 3, 'three events');
  t.deepEqual(h.events, ['add default/a 101', 'add default/b 102', 'update default/a 101->103']);
  t.is(seen.length, 3);
  for (const p of [...seen, ...h.informer.list()]) t.deepEqual(p.spec, { containers: [] });
  t.deepEqual(h.informer.get('default', 'a')?.metadata.labels, { v: '2' });
});

test('when the server ends the stream, the informer re-watches from the last resourceVersion it saw, without relisting', async (t) => {
  const h = await setup(t, {}, (f) => f.put('pods', pod('a')));
  await startWatching(h);
  h.fake.put('pods', pod('b'));
  await until(() => h.events.length === 2, 'b added');
  h.fake.endWatches();
  await until(() => h.fake.watchRequests('pods').length === 2 && h.fake.watcherCount() === 1, 'the second watch');
  t.is(h.fake.watchRequests('pods')[1].query.get('resourceVersion'), '102');
  h.fake.put('pods', pod('c'));
  await until(() => h.events.length === 3, 'c added');
  t.deepEqual(h.events, ['add default/a 101', 'add default/b 102', 'add default/c 103']);
  t.is(h.fake.listRequests('pods').length, 1);
});

test('across an apiserver restart nothing is lost or duplicated: the watch resumes from the last resourceVersion', async (t) => {
  const h = await setup(t, {}, (f) => {
    f.put('pods', pod('a'));
    f.put('pods', pod('b'));
  });
  await startWatching(h);
  h.fake.put('pods', pod('c'));
  await until(() => h.events.length === 3, 'c added');

  await h.fake.stop();
  // Changes the informer can only learn about after the restart.
  h.fake.put('pods', pod('a', { v: '2' }));
  h.fake.remove('pods', 'default', 'b');
  h.fake.put('pods', pod('d'));
  const watchesBefore = h.fake.watchRequests('pods').length;
  // Let it fail to connect a few times (connection refused) before the server is back.
  await until(() => h.logs.filter((l) => l.level === 'warn').length >= 3, 'retries while the server is down');
  await h.fake.start();

  await until(() => h.events.length === 6, 'the missed changes');
  const resumed = h.fake.watchRequests('pods').slice(watchesBefore);
  t.is(resumed[0].query.get('resourceVersion'), '103');
  t.deepEqual(h.events, [
    'add default/a 101',
    'add default/b 102',
    'add default/c 103',
    'update default/a 101->104',
    'delete default/b',
    'add default/d 106',
  ]);
  t.is(h.fake.listRequests('pods').length, 1);
  t.deepEqual(cacheView(h.informer), await serverView(h));
  h.fake.put('pods', pod('e'));
  await until(() => h.events.length === 7, 'live events after the restart');
  t.is(h.events[6], 'add default/e 107');
});

for (const goneAs of ['event', 'status'] as const) {
  test(`410 Gone (${goneAs === 'event' ? 'ERROR event' : 'HTTP status'}) → relist and emit exactly the difference`, async (t) => {
    const h = await setup(t, {}, (f) => {
      f.put('pods', pod('same'));
      f.put('pods', pod('changed'));
      f.put('pods', pod('deleted'));
    });
    h.fake.goneAs = goneAs;
    h.informer.start();
    await h.informer.waitForSync();
    await until(() => h.fake.watcherCount() === 1, 'the watch');
    await h.fake.stop();
    h.fake.put('pods', pod('changed', { v: '2' }));
    h.fake.remove('pods', 'default', 'deleted');
    h.fake.put('pods', pod('new'));
    h.fake.put('pods', pod('gone-before-seen'));
    h.fake.remove('pods', 'default', 'gone-before-seen');
    h.fake.compact(); // the informer's resourceVersion 103 is out of the window now
    h.events.length = 0;
    await h.fake.start();
    await until(() => h.fake.listRequests('pods').length === 2 && h.fake.watcherCount() === 1, 'the relist and new watch');
    t.deepEqual(h.events.sort(), ['add default/new 106', 'delete default/deleted', 'update default/changed 102->104']);
    t.is(h.informer.lastResourceVersion(), h.fake.resourceVersion);
    t.deepEqual(cacheView(h.informer), await serverView(h));
    t.true(h.logs.some((l) => l.msg?.includes('relisting')));
  });
}

test('bookmarks advance the resourceVersion the next watch starts from', async (t) => {
  const h = await setup(t, {}, (f) => f.put('pods', pod('a')));
  await startWatching(h);
  h.fake.bumpResourceVersion(10); // other resources changed
  h.fake.bookmark();
  await until(() => h.informer.lastResourceVersion() === '111', 'the bookmark');
  t.deepEqual(h.events, ['add default/a 101']);
  h.fake.endWatches();
  await until(() => h.fake.watchRequests('pods').length === 2, 'the next watch');
  t.is(h.fake.watchRequests('pods')[1].query.get('resourceVersion'), '111');
});

test('indexers follow adds, updates and deletes', async (t) => {
  const byApp = (p: Pod): string[] => (p.metadata.labels?.app ? [p.metadata.labels.app] : []);
  const byNode = (p: Pod): string[] => [p.spec.nodeName ?? ''];
  const h = await setup(t, { indexers: { app: byApp, node: byNode } }, (f) => {
    f.put('pods', pod('a1', { app: 'a' }));
    f.put('pods', pod('a2', { app: 'a' }));
    f.put('pods', pod('b1', { app: 'b' }));
  });
  h.informer.start();
  await h.informer.waitForSync();
  const names = (v: string): string[] => h.informer.byIndex('app', v).map((p) => p.metadata.name ?? '').sort();
  t.deepEqual(names('a'), ['a1', 'a2']);
  t.deepEqual(names('b'), ['b1']);
  h.fake.put('pods', pod('a2', { app: 'b' }));
  h.fake.remove('pods', 'default', 'a1');
  await until(() => h.events.length === 5, 'update and delete');
  t.deepEqual(names('a'), []);
  t.deepEqual(names('b'), ['a2', 'b1']);
  t.is(h.informer.byIndex('node', '').length, 2);
  t.throws(() => h.informer.byIndex('nope', 'x'), { message: /no index named "nope"/ });
});

test('while the apiserver is away, retries back off exponentially with jitter up to the cap', async (t) => {
  const h = await setup(t, { backoff: { initialMs: 4, maxMs: 32 } });
  await h.fake.stop();
  h.informer.start();
  const retries = (): Record<string, unknown>[] => h.logs.filter((l) => l.level === 'warn').map((l) => l.obj);
  await until(() => retries().length >= 8, 'eight retries');
  t.false(h.informer.hasSynced());
  retries()
    .slice(0, 8)
    .forEach((r, i) => {
      const ceiling = Math.min(32, 4 * 2 ** i);
      const delay = r.delayMs as number;
      t.true(delay >= ceiling / 2 && delay <= ceiling, `retry ${i}: ${delay} outside [${ceiling / 2}, ${ceiling}]`);
      t.is(r.attempt, i + 1);
      t.regex(String(r.reason), /ECONNREFUSED/);
    });
  await h.fake.start();
  await h.informer.waitForSync();
  t.pass();
});

test('a watch refused with a non-410 error backs off and retries from the same resourceVersion, without relisting', async (t) => {
  const h = await setup(t, {}, (f) => f.put('pods', pod('a')));
  h.fake.failWatchesWith = 500;
  h.informer.start();
  await h.informer.waitForSync();
  await until(() => h.fake.watchRequests('pods').length >= 3, 'retried watches');
  h.fake.failWatchesWith = undefined;
  await until(() => h.fake.watcherCount() === 1, 'a watch that works');
  t.true(h.fake.watchRequests('pods').every((r) => r.query.get('resourceVersion') === '101'));
  t.is(h.fake.listRequests('pods').length, 1);
  t.deepEqual(h.events, ['add default/a 101']);
});

test('handlers that throw (or reject) are logged, not fatal; other handlers still run', async (t) => {
  const h = await setup(t, {}, (f) => f.put('pods', pod('a')));
  const seen: string[] = [];
  h.informer.on('add', () => {
    throw new Error('boom');
  });
  h.informer.on('add', (async () => {
    throw new Error('async boom');
  }) as () => void);
  h.informer.on('add', (p) => seen.push(p.metadata.name ?? ''));
  h.informer.start();
  await h.informer.waitForSync();
  h.fake.put('pods', pod('b'));
  await until(() => seen.length === 2, 'both adds');
  await until(() => h.logs.filter((l) => l.level === 'error').length === 4, 'four handler errors logged');
  const errs = h.logs.filter((l) => l.level === 'error').map((l) => l.obj.err).sort();
  t.deepEqual(errs, ['async boom', 'async boom', 'boom', 'boom']);
  t.deepEqual(seen, ['a', 'b']);
});

test('paged lists: the informer follows continue', async (t) => {
  const h = await setup(t, { pageSize: 2 }, (f) => {
    for (let i = 0; i < 5; i++) f.put('pods', pod(`p${i}`));
  });
  h.informer.start();
  await h.informer.waitForSync();
  t.is(h.informer.list().length, 5);
  t.is(h.fake.listRequests('pods').length, 3);
  t.is(h.fake.listRequests('pods')[0].query.get('limit'), '2');
  t.is(h.informer.lastResourceVersion(), '105');
});

test('namespace and label selector scope the list and the watch', async (t) => {
  const h = await setup(t, { namespace: 'prod', labelSelector: 'app=web' }, (f) => {
    f.put('pods', pod('web', { app: 'web' }, 'prod'));
    f.put('pods', pod('db', { app: 'db' }, 'prod'));
    f.put('pods', pod('web', { app: 'web' }, 'dev'));
  });
  await startWatching(h);
  h.fake.put('pods', pod('web2', { app: 'web' }, 'prod'));
  h.fake.put('pods', pod('web3', { app: 'web' }, 'dev'));
  await until(() => h.events.length === 2, 'the second add');
  t.deepEqual(h.events, ['add prod/web 101', 'add prod/web2 104']);
  const w = h.fake.watchRequests('pods')[0];
  t.is(w.path, '/api/v1/namespaces/prod/pods');
  t.is(w.query.get('labelSelector'), 'app=web');
});

test('resync hands every cached object to update handlers as update(obj, obj)', async (t) => {
  const h = await setup(t, { resyncMs: 20 }, (f) => f.put('pods', pod('a')));
  h.informer.start();
  await h.informer.waitForSync();
  await until(() => h.events.filter((e) => e.startsWith('update')).length >= 2, 'two resyncs');
  t.is(h.events[1], 'update default/a 101->101');
});

test('stop ends the informer even while the apiserver is away; waitForSync then rejects', async (t) => {
  const h = await setup(t, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
  await h.fake.stop();
  h.informer.start();
  const waiting = h.informer.waitForSync();
  await until(() => h.logs.some((l) => l.level === 'warn'), 'the first failure');
  await h.informer.stop();
  await t.throwsAsync(waiting, { message: /stopped before it synced/ });
  t.throws(() => h.informer.start(), { message: /stopped/ });
  const ac = new AbortController();
  ac.abort();
  await t.throwsAsync(new Informer(h.client, resources.pods).waitForSync(ac.signal), { message: /aborted/ });
});

test('stop during a live watch closes the stream', async (t) => {
  const h = await setup(t, {}, (f) => f.put('pods', pod('a')));
  await startWatching(h);
  await h.informer.stop();
  await until(() => h.fake.watcherCount() === 0, 'the server to see the watch closed');
  t.pass();
});

test('a handler added after sync hears of the objects already cached', async (t) => {
  const h = await setup(t, {}, (f) => {
    f.put('pods', pod('a'));
    f.put('pods', pod('b'));
  });
  h.informer.start();
  await h.informer.waitForSync();
  const late: string[] = [];
  h.informer.on('add', (p) => late.push(p.metadata.name ?? ''));
  t.deepEqual(late.sort(), ['a', 'b']);
  h.fake.put('pods', pod('c'));
  await until(() => late.length === 3, 'a live add');
});

test('closing the client ends the informer loop', async (t) => {
  const h = await setup(t, {}, (f) => f.put('pods', pod('a')));
  await startWatching(h);
  await h.client.close();
  await until(() => h.logs.some((l) => l.msg === 'client closed; informer ends'), 'the informer to notice');
  await until(() => h.fake.watcherCount() === 0, 'the server to see the watch closed');
  t.is(h.logs.filter((l) => l.level === 'warn').length, 0);
});

test('a watch answered "too large resource version" (the apiserver lost history) relists and diffs', async (t) => {
  const h = await setup(t, {}, (f) => {
    f.put('pods', pod('a'));
    f.put('pods', pod('b'));
  });
  await startWatching(h);
  h.fake.failWatchesWithStatus = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 504,
    reason: 'Timeout',
    message: 'Too large resource version',
    details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] },
  };
  h.fake.remove('pods', 'default', 'b');
  await until(() => h.events.length === 3, 'the delete');
  h.fake.endWatches();
  await until(() => h.fake.listRequests('pods').length >= 4, 'relists');
  // The server keeps refusing: relists after the first one are paced by the backoff, not a hot loop.
  t.true(h.logs.some((l) => l.level === 'warn' && /ResourceVersionTooLarge|Too large/.test(String(l.obj.reason))));
  h.fake.failWatchesWithStatus = undefined;
  await until(() => h.fake.watcherCount() === 1, 'a working watch');
  t.deepEqual(h.events, ['add default/a 101', 'add default/b 102', 'delete default/b']);
  t.deepEqual(cacheView(h.informer), await serverView(h));
});
