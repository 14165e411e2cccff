import test from 'ava';
import { ClosedSignal, DrainTimers } from './listener-shutdown.js';

test('DrainTimers runs what is due and nothing after clear()', async (t) => {
  const timers = new DrainTimers();
  const ran: string[] = [];
  timers.after(5, () => ran.push('due'));
  await new Promise((r) => setTimeout(r, 30));
  timers.after(5, () => ran.push('cleared'));
  timers.clear();
  await new Promise((r) => setTimeout(r, 30));
  t.deepEqual(ran, ['due']);
});

test('ClosedSignal: a promise asked before or after fire() settles, and closed says so', async (t) => {
  const s = new ClosedSignal();
  t.false(s.closed);
  let early = false;
  const before = s.promise().then(() => (early = true));
  await Promise.resolve();
  t.false(early);
  s.fire();
  await before;
  t.true(early);
  t.true(s.closed);
  await s.promise();
});
