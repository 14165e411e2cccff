import test from 'ava';
import { TriggerTimeTracker, formatTriggerTime } from './trigger-time.js';
import { pod, service } from './testing/fixtures.js';

test('trigger time: first sync is the service creation; then the earliest changed Ready transition', (t) => {
  const tr = new TriggerTimeTracker();
  const svc = service();
  const a = pod({ name: 'a', ip: '127.244.0.1', readySince: '2026-01-01T00:00:10Z' });
  const b = pod({ name: 'b', ip: '127.244.0.2', readySince: '2026-01-01T00:00:20Z' });
  t.is(tr.compute(svc, [a, b])?.toISOString(), '2026-01-01T00:00:00.000Z');
  t.is(tr.compute(svc, [a, b]), undefined);
  const b2 = pod({ name: 'b', ip: '127.244.0.2', ready: false, readySince: '2026-01-01T00:01:00Z' });
  const a2 = pod({ name: 'a', ip: '127.244.0.1', ready: false, readySince: '2026-01-01T00:00:50Z' });
  t.is(tr.compute(svc, [a2, b2])?.toISOString(), '2026-01-01T00:00:50.000Z');
  tr.delete('default', 'web');
  t.is(tr.compute(svc, [a2, b2])?.toISOString(), '2026-01-01T00:00:00.000Z');
});

test('formatTriggerTime drops trailing zeros like Go RFC3339Nano', (t) => {
  const cases: [string, string][] = [
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00Z'],
    ['2026-01-01T00:00:00.100Z', '2026-01-01T00:00:00.1Z'],
    ['2026-01-01T00:00:00.123Z', '2026-01-01T00:00:00.123Z'],
    ['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:10Z'],
    ['2026-01-01T00:00:10.120Z', '2026-01-01T00:00:10.12Z'],
    ['2026-01-01T00:00:10.007Z', '2026-01-01T00:00:10.007Z'],
    ['+010000-01-01T00:00:00.500Z', '+010000-01-01T00:00:00.5Z'],
  ];
  // Twice over: formatting a time again gives the same text.
  for (const [iso, want] of [...cases, ...cases]) {
    t.is(formatTriggerTime(new Date(iso)), want);
    t.is(formatTriggerTime(new Date(iso)), want);
  }
});
