// The apiserver's data dir on a small tmpfs that fills up: writes fail with a clear 5xx Status (no
// crash, no hang), reads keep working, nothing already written is corrupted, and writes work again
// once space returns — also across a kill -9 that makes the apiserver reload from disk.
import test from 'ava';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '@knet/knet-app/testing';
import { apiRequest, restarts, sh, until, type ApiAnswer } from './harness.js';

interface Obj {
  metadata: { name: string; resourceVersion: string; uid: string; annotations?: Record<string, string> };
}
interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
}

const NS = 'default';
const base = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;

/**
 * An EndpointSlice of no Service and no controller: written by nobody but this test, and no ipam
 * allocation behind it. (Endpoints without a Service would be the controller's to clean up.)
 */
function slice(name: string, fill = ''): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, annotations: { 'knet.test/fill': fill } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.244.250.1'], conditions: { ready: true } }],
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

/** Fills the filesystem of `dir` with one file, until ENOSPC. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

test.serial('disk full under the apiserver: 5xx Status on writes, reads work, nothing corrupted, writes resume when space returns', async (t) => {
  t.timeout(240_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'knet-diskfull-'));
  const apiDir = join(dataDir, 'apiserver');
  let cluster: TestCluster | undefined;
  let mounted = false;
  // In this order, whatever failed: the cluster (by PID), then the mount, then the files.
  t.teardown(async () => {
    await cluster?.stop();
    if (mounted) {
      const r = await sh('umount', [apiDir]);
      if (r.code !== 0) await sh('umount', ['-l', apiDir]);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  mkdirSync(apiDir);
  const mount = await sh('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', apiDir]);
  if (mount.code !== 0) {
    t.fail(`this test needs root to mount a tmpfs (mount -t tmpfs -o size=8m tmpfs ${apiDir}): ${mount.stderr.trim()}`);
    return;
  }
  mounted = true;
  cluster = await startCluster({ dataDir });
  const cl = cluster;
  const pid = cl.pid('apiserver')!;

  // What is there before the disk fills: it must come back unchanged.
  const kept = new Map<string, Obj>();
  for (let i = 0; i < 50; i++) {
    const r = await apiRequest(cl, 'POST', base, slice(`kept-${i}`, 'x'.repeat(1000)));
    t.is(r.status, 201, r.text);
    const o = r.body as Obj;
    kept.set(o.metadata.name, o);
  }

  const filler = join(apiDir, 'filler');
  fillDisk(filler);

  // Writes: a few may still fit in a page the filesystem had already given the log; soon they fail.
  // Every answer must be a Status (no hang: apiRequest gives up after 30 s), and what was acknowledged is kept.
  const failed: ApiAnswer[] = [];
  let n = 0;
  const acked = new Map<string, Obj>();
  await until(async () => {
    const name = `full-${n++}`;
    const r = await apiRequest(cl, 'POST', base, slice(name, 'y'.repeat(4000)));
    if (r.status === 201) acked.set(name, r.body as Obj);
    else failed.push(r);
    return failed.length >= 5 ? true : undefined;
  }, 'writes to fail on the full disk', 60_000);
  // Once the disk is full, every kind of write fails the same way.
  const kinds: ApiAnswer[] = [
    await apiRequest(cl, 'PUT', `${base}/kept-0`, { ...(slice('kept-0', 'z'.repeat(4000)) as object) }),
    await apiRequest(cl, 'PATCH', `${base}/kept-1`, { metadata: { annotations: { 'knet.test/fill': 'w'.repeat(4000) } } }, 'application/merge-patch+json'),
    await apiRequest(cl, 'DELETE', `${base}/kept-2`),
    await apiRequest(cl, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'on-a-full-disk' } }),
  ];
  for (const r of [...failed, ...kinds]) {
    const s = r.body as Status;
    t.true(r.status >= 500 && r.status < 600, `a write on a full disk answered ${r.status}: ${r.text}`);
    t.is(s?.kind, 'Status', r.text);
    t.is(s?.code, r.status);
    t.truthy(s?.reason, r.text);
    t.regex(s?.message ?? '', /stor|space|disk/i, `the message says what is wrong: ${r.text}`);
  }
  t.log(`on the full disk: ${acked.size} writes still fit, then ${failed[0]!.status} ${(failed[0]!.body as Status).reason}: ${(failed[0]!.body as Status).message}`);

  // Reads keep working, and show exactly what was there (plus what was acknowledged).
  const list = await apiRequest(cl, 'GET', base);
  t.is(list.status, 200, list.text);
  const listed = new Map((list.body as { items: Obj[] }).items.map((o) => [o.metadata.name, o]));
  for (const [name, o] of [...kept, ...acked]) t.deepEqual(listed.get(name), o, `${name} as listed on the full disk`);
  for (const name of listed.keys()) t.false(name.startsWith('full-') && !acked.has(name), `${name} listed, but its write failed`);
  const one = await apiRequest(cl, 'GET', `${base}/kept-3`);
  t.is(one.status, 200, one.text);
  t.deepEqual(one.body, kept.get('kept-3'));
  t.is(cl.pid('apiserver'), pid, 'the apiserver did not crash');

  // Space returns: writes work again, without a restart.
  rmSync(filler);
  await until(async () => {
    const r = await apiRequest(cl, 'POST', base, slice(`after-${n++}`));
    return r.status === 201 ? true : undefined;
  }, 'writes to work again once the filler is deleted', 30_000);
  const put = await apiRequest(cl, 'PUT', `${base}/kept-0`, slice('kept-0', 'again'));
  t.is(put.status, 200, put.text);
  kept.set('kept-0', put.body as Obj);
  t.is(cl.pid('apiserver'), pid, 'the apiserver was not restarted');
  t.is(restarts(cl, 'apiserver'), 0);

  // What is on disk is intact: a kill -9 makes the apiserver reload everything from the store.
  process.kill(pid, 'SIGKILL');
  await until(async () => {
    const s = cl.state().components.find((x) => x.name === 'apiserver');
    return s && s.pid !== pid && s.ready ? true : undefined;
  }, 'the apiserver restarted on the same data dir', 60_000);
  const reloaded = await apiRequest(cl, 'GET', base);
  t.is(reloaded.status, 200, reloaded.text);
  const after = new Map((reloaded.body as { items: Obj[] }).items.map((o) => [o.metadata.name, o]));
  for (const [name, o] of [...kept, ...acked]) t.deepEqual(after.get(name), o, `${name} after the reload`);
  for (const name of after.keys()) t.false(name.startsWith('full-') && !acked.has(name), `${name} stored, but its write failed`);
});
