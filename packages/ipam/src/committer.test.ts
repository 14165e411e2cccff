import test from 'ava';
import { GroupCommitter } from './committer.js';

test('writes queued during a batch go into the next batch, in order', async (t) => {
  const batches: number[][] = [];
  const c = new GroupCommitter<number>(async (ops) => {
    batches.push(ops);
    await new Promise((r) => setImmediate(r));
  }, () => t.fail('no failure expected'));
  const first = c.commit([1]);
  const rest = [c.commit([2]), c.commit([3, 4]), c.commit([])];
  await Promise.all([first, ...rest]);
  t.deepEqual(batches, [[1], [2, 3, 4]]);
});

test('a failed batch rejects itself and everything queued behind it, then reports the failure', async (t) => {
  let failures = 0;
  let calls = 0;
  const c = new GroupCommitter<number>(async () => {
    calls++;
    await new Promise((r) => setImmediate(r));
    if (calls === 1) throw new Error('disk full');
  }, () => failures++);
  const a = c.commit([1]);
  const b = c.commit([2]);
  await t.throwsAsync(a, { message: 'disk full' });
  await t.throwsAsync(b, { message: 'disk full' });
  t.is(failures, 1);
  await c.commit([3]);
  await c.drain();
  t.is(calls, 2);
});
