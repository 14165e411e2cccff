import test from 'ava';
import { Registry, Counter } from 'prom-client';
import { closeServer, healthzHandler, metricsHandler, serve } from './http-servers.js';
import { SyncHealth } from './sync-health.js';

test('healthz: 200 while synced, 503 with the reason when stalled; readyz after the first sync', async (t) => {
  let now = 1_000_000;
  const health = new SyncHealth(60_000, () => now);
  const { server, address } = await serve('127.0.0.1:0', healthzHandler(health));
  t.teardown(() => closeServer(server));
  const get = async (path: string) => {
    const r = await fetch(`http://${address}${path}`);
    return { status: r.status, body: await r.text() };
  };
  t.is((await get('/readyz')).status, 503);
  health.updated();
  t.is((await get('/readyz')).status, 200);
  const ok = await get('/healthz');
  t.is(ok.status, 200);
  t.true((JSON.parse(ok.body) as { healthy: boolean }).healthy);
  health.queued();
  now += 61_000;
  for (const path of ['/healthz', '/livez']) {
    const stalled = await get(path);
    t.is(stalled.status, 503);
    t.regex((JSON.parse(stalled.body) as { reason: string }).reason, /queued 61s ago is not programmed/);
  }
  t.is((await get('/nope')).status, 404);
});

test('metrics: serves the registry; 404 elsewhere; a taken address is an error, not a crash', async (t) => {
  const registry = new Registry();
  new Counter({ name: 'knet_test_total', help: 'x', registers: [registry] }).inc(3);
  const { server, address } = await serve('127.0.0.1:0', metricsHandler(registry));
  t.teardown(() => closeServer(server));
  const r = await fetch(`http://${address}/metrics`);
  t.is(r.status, 200);
  t.regex(await r.text(), /knet_test_total 3/);
  t.is((await fetch(`http://${address}/other`)).status, 404);
  await t.throwsAsync(() => serve(address, metricsHandler(registry)), { code: 'EADDRINUSE' });
});
