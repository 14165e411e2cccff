import test from 'ava';
import { request } from 'node:http';
import { goDuration, listenHttp } from './index.js';
import { freePort, seededRandom, until, untilOk, waitFor } from './testing.js';

test('goDuration', (t) => {
  const cases: [string, number | null][] = [
    ['0', 0], ['00', 0], ['0.0', 0], ['250ms', 250], ['1.5s', 1500], ['60s', 60_000], ['2m', 120_000], ['1h', 3_600_000],
    ['1h2m3s', 3_723_000], [' 30s ', 30_000],
    ['', null], ['5', null], ['abc', null], ['5x', null], ['s', null], ['-1s', null], ['1s2', null],
  ];
  for (const [s, want] of cases) t.is(goDuration(s), want, JSON.stringify(s));
});

test('seededRandom is repeatable and in [0, 1)', (t) => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 100 }, () => a());
  t.deepEqual(Array.from({ length: 100 }, () => b()), xs);
  t.true(xs.every((x) => x >= 0 && x < 1));
  t.notDeepEqual(Array.from({ length: 100 }, seededRandom(43)), xs);
});

test('until returns the first defined value and times out naming what it waited for', async (t) => {
  let n = 0;
  t.is(await until('three calls', () => (++n >= 3 ? n : undefined)), 3);
  await t.throwsAsync(until('never', () => undefined, 50), { message: 'timed out waiting for never' });
});

test('listenHttp serves on a free port, reports listen errors, and close() ends keep-alive connections', async (t) => {
  const l = await listenHttp('127.0.0.1', 0, (_req, res) => res.end('hi'));
  t.teardown(() => l.close());
  t.true(l.port > 0);
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port: l.port, path: '/', agent: false }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(s));
    }).on('error', reject).end();
  });
  t.is(body, 'hi');
  await t.throwsAsync(listenHttp('127.0.0.1', l.port, () => undefined), { code: 'EADDRINUSE' });
  await l.close();
});

test('untilOk waits through throws and false, and names the last error on timeout', async (t) => {
  let n = 0;
  t.is(await untilOk('the fourth call', () => {
    n++;
    if (n === 1) throw new Error('not yet');
    return n >= 4 ? 'done' : false;
  }), 'done');
  await t.throwsAsync(untilOk('never', () => {
    throw new Error('refused');
  }, 50), { message: 'timed out waiting for never: Error: refused' });
});

test('freePort gives a port that can be bound on 127.0.0.1', async (t) => {
  const port = await freePort();
  t.true(port > 0 && port <= 65535);
  const l = await listenHttp('127.0.0.1', port, () => undefined);
  t.teardown(() => l.close());
  t.is(l.port, port);
});

test('waitFor resolves once the condition holds and times out naming it', async (t) => {
  let n = 0;
  await waitFor('n to reach 3', async () => ++n >= 3);
  t.is(n, 3);
  await t.throwsAsync(waitFor('never', () => false, 50), { message: 'timed out waiting for never' });
});
