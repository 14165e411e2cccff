import test from 'ava';
import { SyncTracer } from './sync-trace.js';

test('a trace carries the first Pod event since the last sync, and a stale deferral, until the sync goes ahead', (t) => {
  const tr = new SyncTracer();
  t.like(tr.begin('ns/a'), { podEventAt: undefined, busyAtPodEvent: undefined, staleAt: undefined });

  tr.busyWorkers = 3;
  tr.podEvent('ns/a', 1000);
  tr.busyWorkers = 5;
  tr.podEvent('ns/a', 2000); // coalesced into the same sync: the first event counts
  const first = tr.begin('ns/a');
  t.like(first, { podEventAt: 1000, busyAtPodEvent: 3, staleAt: undefined });
  t.true(first.syncStart > 1e12);

  tr.deferred('ns/a', first);
  const second = tr.begin('ns/a');
  t.like(second, { podEventAt: 1000, staleAt: first.syncStart });
  tr.deferred('ns/a', second); // deferred again: still the first deferral
  t.is(tr.begin('ns/a').staleAt, first.syncStart);

  tr.proceed('ns/a');
  t.like(tr.begin('ns/a'), { podEventAt: undefined, staleAt: undefined });
  tr.podEvent('ns/b', 3000);
  t.is(tr.begin('ns/b').busyAtPodEvent, 5);
});
