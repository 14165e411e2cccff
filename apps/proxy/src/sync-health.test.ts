import test from 'ava';
import { SyncHealth } from './sync-health.js';

type Op = ['wait', number] | ['queue'] | ['update'];
const cases: { name: string; ops: Op[]; healthy: boolean; reason?: RegExp }[] = [
  { name: 'fresh start is healthy', ops: [], healthy: true },
  { name: 'no first sync within the timeout', ops: [['wait', 61_000]], healthy: false, reason: /since start/ },
  { name: 'synced recently', ops: [['update'], ['wait', 59_000]], healthy: true },
  { name: 'syncs stalled', ops: [['update'], ['wait', 61_000]], healthy: false, reason: /no sync completed for 61s/ },
  { name: 'queued change pending too long', ops: [['update'], ['wait', 1000], ['queue'], ['wait', 60_500]], healthy: false, reason: /queued 61s ago/ },
  { name: 'queued change programmed', ops: [['queue'], ['wait', 1000], ['update'], ['wait', 59_000]], healthy: true },
  { name: 'the oldest queued change counts', ops: [['update'], ['queue'], ['wait', 40_000], ['queue'], ['wait', 21_000]], healthy: false, reason: /queued 61s ago/ },
];

for (const c of cases) {
  test(`SyncHealth: ${c.name}`, (t) => {
    let now = 1_000_000;
    const h = new SyncHealth(60_000, () => now);
    for (const op of c.ops) {
      if (op[0] === 'wait') now += op[1];
      else if (op[0] === 'queue') h.queued();
      else h.updated();
    }
    const r = h.report();
    t.is(r.healthy, c.healthy);
    if (c.reason) t.regex(r.reason ?? '', c.reason);
    t.is(r.currentTime, new Date(now).toISOString());
  });
}

test('SyncHealth: a change queued during a sync stays pending after it', (t) => {
  let now = 0;
  const h = new SyncHealth(10, () => now);
  const started = now;
  now = 5;
  h.queued();
  now = 6;
  h.updated(started);
  now = 20;
  t.false(h.report().healthy);
});
