import test from 'ava';
import { Backoff, sleep } from './backoff.js';

test('without jitter (random=1) the delay doubles and caps at maxMs', (t) => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
  t.deepEqual(Array.from({ length: 7 }, () => b.next()), [100, 200, 400, 800, 1000, 1000, 1000]);
  b.reset();
  t.is(b.next(), 100);
});

test('jitter keeps each delay within [ceiling/2, ceiling]', (t) => {
  const cases: [number, number[]][] = [
    [0, [50, 100, 200, 400, 500]],
    [0.5, [75, 150, 300, 600, 750]],
  ];
  for (const [r, want] of cases) {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => r);
    t.deepEqual(Array.from({ length: 5 }, () => b.next()), want, `random=${r}`);
  }
  const b = new Backoff({ initialMs: 10, maxMs: 80 });
  for (let i = 0; i < 50; i++) {
    const ceiling = Math.min(80, 10 * 2 ** i);
    const d = b.next();
    t.true(d >= ceiling / 2 && d <= ceiling, `attempt ${i}: ${d} outside [${ceiling / 2}, ${ceiling}]`);
  }
});

test('many attempts never overflow', (t) => {
  const b = new Backoff({ initialMs: 1, maxMs: 5 }, () => 1);
  for (let i = 0; i < 2000; i++) b.next();
  t.is(b.next(), 5);
});

test('bad options are rejected', (t) => {
  t.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), { instanceOf: RangeError });
  t.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), { instanceOf: RangeError });
});

test('sleep returns early when aborted', async (t) => {
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort();
  await p;
  await sleep(1, ac.signal);
  t.pass();
});
