import test from 'ava';
import { WorkQueue } from './queue.js';

async function drain<K>(q: WorkQueue<K>): Promise<K[]> {
  const out: K[] = [];
  while (q.length > 0) {
    const k = (await q.get())!;
    out.push(k);
    q.done(k);
  }
  return out;
}

test('a burst of adds of one key coalesces into one item', async (t) => {
  const q = new WorkQueue<string>();
  for (let i = 0; i < 100; i++) q.add('default/web');
  q.add('default/db');
  q.add('default/web');
  t.is(q.length, 2);
  t.deepEqual(await drain(q), ['default/web', 'default/db']);
});

test('a key added while processing is processed again after done, not concurrently', async (t) => {
  const q = new WorkQueue<string>();
  q.add('a');
  const k = await q.get();
  t.is(k, 'a');
  q.add('a');
  q.add('a');
  t.is(q.length, 0, 'not handed out while processing');
  q.done('a');
  t.is(q.length, 1);
  t.deepEqual(await drain(q), ['a']);
});

test('a waiting worker receives the next added key', async (t) => {
  const q = new WorkQueue<string>();
  const p = q.get();
  q.add('x');
  t.is(await p, 'x');
  q.add('x');
  t.is(q.length, 0);
  q.done('x');
  t.is(await q.get(), 'x');
});

test('backoff doubles per failure, is capped, and resets on forget', (t) => {
  const q = new WorkQueue<string>({ baseDelayMs: 5, maxDelayMs: 100 });
  const table: [number, number][] = [
    [0, 5],
    [1, 10],
    [2, 20],
    [4, 80],
    [5, 100],
    [50, 100],
  ];
  for (const [n, want] of table) t.is(q.backoffFor(n), want, `after ${n} failures`);
  q.addRateLimited('k');
  q.addRateLimited('k');
  t.is(q.numRequeues('k'), 2);
  q.forget('k');
  t.is(q.numRequeues('k'), 0);
  q.shutDown();
});

test('addAfter queues the key once the delay passed; the earlier delay wins', async (t) => {
  const q = new WorkQueue<string>();
  q.addAfter('k', 20);
  q.addAfter('k', 60_000);
  t.is(q.length, 0);
  const got = await q.get();
  t.is(got, 'k');
  q.done('k');
  t.is(q.length, 0);
  q.shutDown();
});

test('shutDown releases waiting workers and drops delayed keys', async (t) => {
  const q = new WorkQueue<string>();
  const p = q.get();
  q.addAfter('later', 60_000);
  q.shutDown();
  t.is(await p, undefined);
  t.is(await q.get(), undefined);
  q.add('x');
  t.is(q.length, 0);
});
