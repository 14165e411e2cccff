// The apiserver's --fsync flag: 'always' acknowledges writes once they are on disk, with no
// background syncs; a bad value is refused with a clear message.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from './test-client.js';
import { apiserverExit, startControlPlane } from './testing.js';

test('--fsync always: every write is synced before it is acknowledged, none in the background', async (t) => {
  const cp = await startControlPlane({ apiserverArgs: ['--fsync', 'always'] });
  t.teardown(() => cp.stop());
  const api = client(cp.url);
  t.is((await api.post('/api/v1/namespaces', { metadata: { name: 'synced' } })).status, 201);
  await new Promise((r) => setTimeout(r, 1500)); // past the interval a background sync would run in
  const m = (await api.get('/metrics')).text;
  t.regex(m, /knet_store_commit_duration_seconds_count [1-9]/);
  t.regex(m, /knet_store_background_sync_duration_seconds_count 0\n/);
});

test('a bad --fsync is refused with a clear message', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'knet-fsync-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { code, stderr: err } = await apiserverExit(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'db'), '--fsync', 'sometimes']);
  t.is(code, 2);
  t.regex(err, /--fsync must be interval or always, got "sometimes"/);
});
