import test from 'ava';
import { WriteTracker, rvAtLeast } from './write-tracker.js';

test('rvAtLeast', (t) => {
  const table: [string | undefined, string | undefined, boolean][] = [
    ['10', '9', true],
    ['9', '10', false],
    ['10', '10', true],
    [undefined, '1', false],
    ['1', undefined, true],
    ['abc', 'abc', true],
    ['abd', 'abc', false],
    ['99', '100', false],
    ['0010', '9', true],
    ['007', '7', true],
    ['100000000000000000001', '100000000000000000000', true],
    ['100000000000000000000', '100000000000000000001', false],
  ];
  for (const [a, b, want] of table) t.is(rvAtLeast(a, b), want, `${a} >= ${b}`);
});

test('a written object is stale until the informer shows that version', (t) => {
  const w = new WriteTracker();
  w.expectWritten('default/web', 'web-abc', '12');
  t.true(w.isStale('default/web'));
  t.true(w.observe('default/web', 'web-abc', '11', false), 'older version: ours, still pending');
  t.true(w.isStale('default/web'));
  t.true(w.observe('default/web', 'web-abc', '12', false), 'our write arrived');
  t.false(w.isStale('default/web'));
  t.false(w.observe('default/web', 'web-abc', '13', false), 'someone else changed it: news');
});

test('a deleted object is stale until the delete is seen; unexpected deletes are news', (t) => {
  const w = new WriteTracker();
  w.expectDeleted('ns/a', 'a-1', '5');
  t.true(w.isStale('ns/a'));
  t.false(w.observe('ns/a', 'a-1', '6', false));
  t.true(w.observe('ns/a', 'a-1', '5', true));
  t.false(w.isStale('ns/a'));
  w.expectWritten('ns/a', 'a-2', '7');
  t.false(w.observe('ns/a', 'a-2', '7', true));
  t.false(w.isStale('ns/a'));
});

test('expectations expire', (t) => {
  const w = new WriteTracker(-1);
  w.expectWritten('ns/a', 'x', '1');
  t.false(w.isStale('ns/a'));
});

test('during a sync the events of its own writes are not news, whichever comes first', (t) => {
  const w = new WriteTracker();
  w.beginSync('ns/web');
  t.true(w.observe('ns/web', 'slices/web-1', '20', false), 'held until the sync ends');
  w.expectWritten('ns/web', 'slices/web-1', '20');
  w.expectWritten('ns/web', 'endpoints/web', '21');
  w.expectDeleted('ns/web', 'slices/web-2', '15');
  t.true(w.observe('ns/web', 'slices/web-2', '22', true));
  t.false(w.endSync('ns/web'), 'only its own writes came');
  t.true(w.isStale('ns/web'), 'the Endpoints write has not been seen yet');
  t.true(w.observe('ns/web', 'endpoints/web', '21', false));
  t.false(w.isStale('ns/web'));
});

test('during a sync an event that is not one of its writes is news', (t) => {
  const table: [string, [string, string, boolean], boolean][] = [
    ['a newer version of what it wrote', ['slices/web-1', '25', false], true],
    ['an object it did not write', ['slices/web-9', '19', false], true],
    ['an older version of what it wrote', ['slices/web-1', '18', false], false],
    ['its own write', ['slices/web-1', '20', false], false],
    ['a delete of what it wrote', ['slices/web-1', '26', true], true],
  ];
  for (const [what, [object, rv, deleted], news] of table) {
    const w = new WriteTracker();
    w.beginSync('ns/web');
    w.observe('ns/web', object, rv, deleted);
    w.expectWritten('ns/web', 'slices/web-1', '20');
    t.is(w.endSync('ns/web'), news, what);
  }
  const w = new WriteTracker();
  t.false(w.endSync('ns/none'), 'no sync began');
});
