// A watcher that stops reading is disconnected once its buffer is full, and the server carries on.
import { connect } from 'node:net';
import test from 'ava';
import { client } from './test-client.js';
import { startControlPlane, type ControlPlane } from './testing.js';

let cp: ControlPlane;
test.before(async () => {
  cp = await startControlPlane({ apiserverArgs: ['--watch-buffer-events', '5'] });
});
test.after.always(async () => {
  await cp?.stop();
});

test('slow consumer is cut off; others are unaffected', async (t) => {
  const api = client(cp.url);
  const ep = '/api/v1/namespaces/default/endpoints/big';
  t.is((await api.post('/api/v1/namespaces/default/endpoints', { metadata: { name: 'big' }, subsets: [] })).status, 201);
  const { hostname, port } = new URL(cp.url);
  const sock = connect(Number(port), hostname);
  t.teardown(() => sock.destroy());
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write(`GET /api/v1/namespaces/default/endpoints?watch=1&resourceVersion=1 HTTP/1.1\r\nHost: x\r\n\r\n`);
  sock.pause(); // never read while the events pile up
  let closed = false;
  sock.once('close', () => { closed = true; });
  const blob = 'x'.repeat(200 * 1024);
  let updates = 0;
  const deadline = Date.now() + 60_000;
  const metrics = async () => (await api.get('/metrics')).text.match(/apiserver_longrunning_requests\{verb="WATCH"\} (\d+)/)?.[1];
  while (Date.now() < deadline && (await metrics()) !== '1') await new Promise((r) => setTimeout(r, 20));
  t.is(await metrics(), '1', 'the watch is registered');
  while (Date.now() < deadline && (await metrics()) !== '0') {
    const r = await api.patch(ep, { metadata: { annotations: { blob: blob + String(updates++) } } }, 'application/merge-patch+json');
    t.is(r.status, 200, r.text);
  }
  t.is(await metrics(), '0', 'the server dropped the watcher');
  t.true(updates > 5, `it took ${updates} updates`);
  sock.resume();
  sock.on('data', () => undefined);
  while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.true(closed, 'the connection was closed');
  t.is((await api.get(ep)).status, 200);
});
