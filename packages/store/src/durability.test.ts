// When an acknowledged write is on disk: at once with fsync 'always'; with 'interval' (the default)
// within the interval, synced in the background by LogSyncer, and at close.

import test from 'ava';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogSyncer } from './log-sync.js';
import { Store } from './store.js';
import { eventually, openTemp, svc, tempDir } from './test-helpers.js';

test("fsync 'always': every acknowledged write is already synced", async (t) => {
  const { store } = await openTemp(t, { fsync: 'always' });
  const created = await store.create('services', svc('a'));
  t.is(store.syncedResourceVersion(), created.metadata.resourceVersion ?? '');
});

test("fsync 'interval': writes are synced in the background within the interval, one sync for a burst", async (t) => {
  const syncs: [number, unknown][] = [];
  const { store } = await openTemp(t, { syncIntervalMs: 100, onSync: (seconds, err) => syncs.push([seconds, err]) });
  const opened = store.syncedResourceVersion();
  await Promise.all(['a', 'b', 'c'].map((n) => store.create('services', svc(n))));
  await store.create('services', svc('d'));
  t.is(store.syncedResourceVersion(), opened, 'acknowledged before the sync');
  t.is(syncs.length, 0);
  await eventually(() => store.syncedResourceVersion() === store.resourceVersion(), 'the background sync', 2000);
  t.is(syncs.length, 1, 'the writes of one interval share a sync');
  t.true(syncs[0][0] >= 0 && syncs[0][0] < 60);
  t.is(syncs[0][1], undefined);
  await new Promise((r) => setTimeout(r, 250));
  t.is(syncs.length, 1, 'no writes, no sync');
});

test("fsync 'interval': sync() puts every acknowledged write on disk now; a reopened store starts synced", async (t) => {
  const dir = join(await tempDir(t), 'db');
  const store = await Store.open(dir, { syncIntervalMs: 60_000 });
  await store.create('services', svc('a'));
  const last = await store.create('services', svc('b'));
  t.not(store.syncedResourceVersion(), last.metadata.resourceVersion);
  await store.sync();
  t.is(store.syncedResourceVersion(), last.metadata.resourceVersion ?? '');
  await store.create('services', svc('c'));
  await store.close(); // syncs what is left
  const reopened = await Store.open(dir);
  t.teardown(() => reopened.close());
  t.is(reopened.syncedResourceVersion(), reopened.resourceVersion());
  t.is(reopened.resourceVersion(), '3');
});

test('LogSyncer syncs every log file present, skips a log deleted meanwhile, and reports a failure', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, '000003.log'), 'entries');
  await writeFile(join(dir, 'MANIFEST-000002'), 'not a log');
  const reports: unknown[] = [];
  const syncer = new LogSyncer(dir, 5, { intervalMs: 60_000, onSync: (_s, err) => reports.push(err) });
  t.is(syncer.syncedThrough(), 5);
  syncer.wrote(6);
  await syncer.sync();
  t.is(syncer.syncedThrough(), 6);
  // LevelDB rotated its log and deleted the old one.
  await writeFile(join(dir, '000005.log'), 'newer entries');
  await rm(join(dir, '000003.log'));
  syncer.wrote(7);
  await syncer.sync();
  t.is(syncer.syncedThrough(), 7);
  t.deepEqual(reports, [undefined, undefined]);
  // The directory is gone: the sync fails, says so, and the written RV stays unsynced.
  await rm(dir, { recursive: true });
  syncer.wrote(8);
  await t.throwsAsync(syncer.sync(), { code: 'ENOENT' });
  t.is(syncer.syncedThrough(), 7);
  t.is((reports[2] as NodeJS.ErrnoException).code, 'ENOENT');
  await mkdir(dir); // teardown removes it
  await syncer.close();
  t.is(syncer.syncedThrough(), 8);
});
