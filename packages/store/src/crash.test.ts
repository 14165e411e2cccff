// Acknowledged writes survive kill -9: a child process writes, we SIGKILL it
// mid-stream, reopen the store and check every acknowledged object is there.
// In both fsync modes: with 'interval' the OS holds what the killed process wrote.

import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Store } from './store.js';
import { fsyncModes, type FsyncMode } from './types.js';
import { eventually, tempDir } from './test-helpers.js';

const writerScript = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

async function killMidStream(t: import('ava').ExecutionContext, dir: string, acksWanted: number, prefix: string, fsync: FsyncMode): Promise<Map<string, string>> {
  const child = spawn(process.execPath, [writerScript, dir, '32', prefix, fsync], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  const acked = new Map<string, string>();
  let stderr = '';
  let buf = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const [name, rv] = line.split(' ');
      if (rv !== undefined) acked.set(name, rv);
    }
  });
  await eventually(() => acked.size >= acksWanted || child.exitCode !== null, `${acksWanted} acknowledged writes`, 60000);
  t.is(child.exitCode, null, `writer died early: ${stderr}`);
  process.kill(child.pid as number, 'SIGKILL');
  const [, signal] = await exited;
  t.is(signal, 'SIGKILL');
  return acked;
}

for (const fsync of fsyncModes) test(`fsync '${fsync}': every acknowledged write survives SIGKILL and the store stays consistent`, async (t) => {
  const dir = join(await tempDir(t), 'db');
  const acked = new Map<string, string>();
  // Twice: the second run appends to the store the first one left behind.
  for (const round of [1, 2]) {
    const got = await killMidStream(t, dir, 400, `r${round}-`, fsync);
    for (const [name, rv] of got) acked.set(name, rv);

    const store = await Store.open(dir, { watchWindow: 1_000_000 });
    try {
      const current = Number(store.resourceVersion());
      const { items } = await store.list('crash/things');
      const byName = new Map(items.map((o) => [o.metadata.name ?? '', o]));
      t.log(`round ${round}: ${got.size} acknowledged by the killed writer, ${items.length} objects stored in all`);
      // Every acknowledged object is there, at the RV it was acknowledged with.
      const kept = [...acked].filter(([name, rv]) => byName.get(name)?.metadata.resourceVersion === rv);
      t.is(kept.length, acked.size, `round ${round}: acknowledged objects missing after kill -9`);
      // RVs: unique, none above the counter, and the counter covers all of them.
      const rvs = items.map((o) => Number(o.metadata.resourceVersion));
      t.is(new Set(rvs).size, rvs.length);
      t.true(rvs.every((rv) => rv >= 1 && rv <= current));
      // One RV per write (the creates, plus one probe per earlier round): none lost, none phantom.
      t.is(current, items.length + round - 1);
      // The event log agrees with the objects: replay from RV 1 sees every later create.
      const expected = [...rvs].sort((a, b) => a - b).filter((rv) => rv > 1);
      const replayed: number[] = [];
      const w = store.watch('crash/things', { resourceVersion: '1' }, (e) => {
        replayed.push(Number(e.resourceVersion));
        t.is(byName.get(e.object.metadata.name ?? '')?.metadata.resourceVersion, e.resourceVersion);
      });
      await eventually(() => replayed.length === expected.length, 'replay of the whole log');
      w.close();
      t.deepEqual(replayed, expected);
      // And it keeps going from there.
      const next = await store.create('crash/probe', { metadata: { name: `probe-${round}` } });
      t.is(Number(next.metadata.resourceVersion), current + 1);
    } finally {
      await store.close();
    }
  }
});
