import test from 'ava';
import { CallBatcher } from './call-batcher.js';

test('calls made while a batch is in flight go together in the next batch, answered in order', async (t) => {
  const batches: number[][] = [];
  let release!: () => void;
  const b = new CallBatcher<number, number>(async (reqs) => {
    batches.push(reqs);
    if (batches.length === 1) await new Promise<void>((r) => (release = r));
    return reqs.map((n) => n * 10);
  });
  const first = [b.call(1), b.call(2)];
  while (batches.length === 0) await new Promise((r) => setImmediate(r));
  const later = [b.call(3), b.call(4), b.call(5)];
  release();
  t.deepEqual(await Promise.all([...first, ...later]), [10, 20, 30, 40, 50]);
  t.deepEqual(batches, [[1, 2], [3, 4, 5]]);
});

test('an Error result fails only its own call; a failed send fails its whole batch and not the next', async (t) => {
  let sends = 0;
  const b = new CallBatcher<number, number>(async (reqs) => {
    sends++;
    if (sends === 2) throw new Error('unavailable');
    return reqs.map((n) => (n < 0 ? new Error(`negative ${n}`) : n));
  });
  const [ok, bad] = await Promise.allSettled([b.call(1), b.call(-1)]);
  t.deepEqual(ok, { status: 'fulfilled', value: 1 });
  t.is(bad.status === 'rejected' && (bad.reason as Error).message, 'negative -1');
  await t.throwsAsync(b.call(2), { message: 'unavailable' });
  t.is(await b.call(3), 3);
  t.is(sends, 3);
});

test('a batch never exceeds the maximum size', async (t) => {
  const sizes: number[] = [];
  const b = new CallBatcher<number, number>(async (reqs) => {
    sizes.push(reqs.length);
    return reqs;
  }, 4);
  const all = await Promise.all(Array.from({ length: 10 }, (_, i) => b.call(i)));
  t.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.deepEqual(sizes, [4, 4, 2]);
});

test('a send that answers the wrong number of results fails the batch', async (t) => {
  const b = new CallBatcher<number, number>(async () => [1]);
  const results = await Promise.allSettled([b.call(1), b.call(2)]);
  t.true(results.every((r) => r.status === 'rejected' && /batch of 2 answered with 1 results/.test(String(r.reason))));
});
