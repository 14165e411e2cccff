// A batch level could not write (a full disk) leaves the log with a hole level does not know about;
// the store must reopen level before its next write, or later writes are acknowledged and then lost.
import test from 'ava';
import { Store } from './store.js';
import { StoreError } from './errors.js';
import { openTemp, svc } from './test-helpers.js';

interface ChainedBatch {
  write: (...args: unknown[]) => Promise<void>;
}
interface Internals {
  db: { batch: () => ChainedBatch; close: () => Promise<void> };
}

test('after a failed write the store reopens level, keeps serving reads, and acknowledged writes survive a reopen', async (t) => {
  const { store, dir } = await openTemp(t);
  const kept = await store.create('services', svc('kept'));
  const internals = store as unknown as Internals;
  const failing = internals.db;
  const realBatch = failing.batch.bind(failing);
  failing.batch = () => {
    const batch = realBatch();
    batch.write = () => Promise.reject(new Error('IO error: No space left on device'));
    return batch;
  };

  const err = await t.throwsAsync(store.create('services', svc('lost')), { instanceOf: StoreError });
  t.regex(err!.message, /write was not stored: .*No space left on device/);
  t.is(store.resourceVersion(), String(kept.metadata.resourceVersion), 'a failed write takes no resourceVersion');
  t.deepEqual(await store.get('services', 'default', 'kept'), kept, 'reads are served while broken');

  // The next write goes to a freshly opened level, not the one that failed.
  const after = await store.create('services', svc('after'));
  t.not(internals.db, failing);
  failing.batch = realBatch;
  await store.close();

  const reopened = await Store.open(dir);
  t.teardown(() => reopened.close());
  t.deepEqual(await reopened.get('services', 'default', 'after'), after);
  t.deepEqual(await reopened.get('services', 'default', 'kept'), kept);
  await t.throwsAsync(reopened.get('services', 'default', 'lost'), { instanceOf: StoreError });
  t.is(reopened.resourceVersion(), String(after.metadata.resourceVersion));
});
