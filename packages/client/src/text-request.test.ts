import test from 'ava';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from '@knet/component/undici';
import { textRequest } from './text-request.js';

async function serve(t: { teardown(fn: () => unknown): void }, handle: (res: ServerResponse, path: string) => void): Promise<Pool> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(res, req.url ?? ''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.teardown(async () => {
    await pool.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return pool;
}

test('textRequest: a body sent in pieces, one character split between them, comes back whole', async (t) => {
  const euro = Buffer.from('€');
  const pool = await serve(t, (res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.write(Buffer.concat([Buffer.from('{"a":"'), euro.subarray(0, 1)]));
    setTimeout(() => res.end(Buffer.concat([euro.subarray(1), Buffer.from('"}')])), 10);
  });
  const res = await textRequest(pool, { method: 'PUT', path: '/x', body: '{}', headers: { 'content-type': 'application/json' } });
  t.is(res.statusCode, 201);
  t.is(res.text, '{"a":"€"}');
});

test('textRequest: an abort while the answer is awaited rejects with the signal\'s reason', async (t) => {
  const pool = await serve(t, () => {}); // never answers
  const ac = new AbortController();
  const pending = textRequest(pool, { method: 'GET', path: '/hang', signal: ac.signal });
  setTimeout(() => ac.abort(new Error('stopping')), 20);
  await t.throwsAsync(pending, { message: 'stopping' });
});

test('textRequest: an aborted signal rejects before anything is sent; a refused connection rejects', async (t) => {
  let requests = 0;
  const pool = await serve(t, (res) => {
    requests++;
    res.end('ok');
  });
  const ac = new AbortController();
  ac.abort();
  // The signal's own reason, a DOMException named AbortError, as undici's request() rejects with.
  await t.throwsAsync(textRequest(pool, { method: 'GET', path: '/', signal: ac.signal }), { any: true, name: 'AbortError' });
  t.is((await textRequest(pool, { method: 'GET', path: '/' })).text, 'ok');
  t.is(requests, 1);
  // A port nothing listens on: the one this test's server had, once closed.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = new Pool(`http://127.0.0.1:${port}`);
  t.teardown(() => refused.destroy());
  await t.throwsAsync(textRequest(refused, { method: 'GET', path: '/' }), { code: 'ECONNREFUSED' });
});
