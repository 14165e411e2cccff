import test from 'ava';
import { AffinityTable } from './affinity.js';
import { choiceAfterFailure, firstChoice, forgetFailed } from './backend-choice.js';
import { BackendPool } from './backend-pool.js';

const pool = (...addresses: string[]) =>
  new BackendPool(addresses.map((address) => ({ address, port: 80, ready: true, serving: true, terminating: false })), false);

function affinity(t: { teardown(fn: () => void): void }): AffinityTable {
  const a = new AffinityTable(60_000);
  t.teardown(() => a.close());
  return a;
}

test('firstChoice: round robin without affinity', (t) => {
  const p = pool('127.0.0.1', '127.0.0.2');
  t.deepEqual([firstChoice(p, undefined, undefined), firstChoice(p, undefined, undefined)].map((x) => x?.address), ['127.0.0.1', '127.0.0.2']);
  t.is(firstChoice(pool(), undefined, undefined), undefined);
});

test('firstChoice: a client sticks to the backend recorded at its first choice', (t) => {
  const p = pool('127.0.0.1', '127.0.0.2');
  const a = affinity(t);
  const first = firstChoice(p, a, '127.9.0.1')!;
  t.is(a.get('127.9.0.1'), first.key);
  t.is(firstChoice(p, a, '127.9.0.1')?.key, first.key);
  t.not(firstChoice(p, a, '127.9.0.2')?.key, first.key);
});

test('choiceAfterFailure: moves the client to the next untried backend, forgets it when none is left', (t) => {
  const p = pool('127.0.0.1', '127.0.0.2');
  const a = affinity(t);
  const failed = firstChoice(p, a, '127.9.0.1')!;
  const next = choiceAfterFailure(p, a, '127.9.0.1', failed, [failed], 3)!;
  t.not(next.key, failed.key);
  t.is(a.get('127.9.0.1'), next.key);
  t.is(choiceAfterFailure(p, a, '127.9.0.1', next, [failed, next], 3), undefined);
  t.is(a.get('127.9.0.1'), undefined);
});

test('choiceAfterFailure: bounded by maxAttempts', (t) => {
  const p = pool('127.0.0.1', '127.0.0.2', '127.0.0.3');
  const failed = firstChoice(p, undefined, undefined)!;
  t.is(choiceAfterFailure(p, undefined, undefined, failed, [failed], 1), undefined);
  t.truthy(choiceAfterFailure(p, undefined, undefined, failed, [failed], 2));
});

test('forgetFailed leaves a client that already moved elsewhere alone', (t) => {
  const p = pool('127.0.0.1', '127.0.0.2');
  const a = affinity(t);
  const [x, y] = [firstChoice(p, undefined, undefined)!, firstChoice(p, undefined, undefined)!];
  a.set('127.9.0.1', y.key);
  forgetFailed(a, '127.9.0.1', x);
  t.is(a.get('127.9.0.1'), y.key);
  forgetFailed(a, '127.9.0.1', y);
  t.is(a.get('127.9.0.1'), undefined);
});
