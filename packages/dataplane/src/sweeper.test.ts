import test from 'ava';
import { Sweeper, sweepEvery } from './sweeper.js';
import { until } from './test-support/net.js';

test('sweepEvery: a quarter of the timeout, kept within [5 ms, 60 s]', (t) => {
  const cases: Array<[number, number]> = [
    [0, 5],
    [10, 5],
    [200, 50],
    [3000, 750],
    [3_600_000, 60_000],
  ];
  for (const [ms, want] of cases) t.is(sweepEvery(ms), want, `sweepEvery(${ms})`);
});

test('Sweeper checks every member until it is deleted, and closes cleanly', async (t) => {
  const seen = new Map<string, number>();
  const s = new Sweeper<string>(5, (m) => {
    seen.set(m, (seen.get(m) ?? 0) + 1);
    if (m === 'once') s.delete(m); // deleting during a sweep is allowed
  });
  t.teardown(() => s.close());
  s.add('once');
  s.add('kept');
  await until(() => (seen.get('kept') ?? 0) >= 3, 5000, 'three sweeps');
  t.is(seen.get('once'), 1);
  t.is(s.size, 1);
  s.delete('kept');
  t.is(s.size, 0);
  const before = seen.get('kept')!;
  s.add('again');
  await until(() => (seen.get('again') ?? 0) >= 1, 5000, 'sweeps restart after the set emptied');
  t.is(seen.get('kept'), before);
  s.close();
  t.is(s.size, 0);
});
