// Test helper for the crash test: opens a store and creates objects forever,
// `concurrency` at a time, printing "<name> <resourceVersion>" for each one
// only after the store acknowledged it. The test kills it with SIGKILL.
//
//   node dist/crash-writer.js <dir> [concurrency] [name prefix] [fsync: interval | always]

import { Store } from './store.js';
import type { FsyncMode } from './types.js';

async function main(): Promise<void> {
  const [dir, concurrencyArg, prefix = 'obj-', fsync = 'interval'] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write('usage: crash-writer <dir> [concurrency] [name prefix] [fsync]\n');
    process.exitCode = 2;
    return;
  }
  const concurrency = Number(concurrencyArg ?? '16');
  const store = await Store.open(dir, { watchWindow: 1_000_000, fsync: fsync as FsyncMode });
  process.stdout.write('ready\n');
  let seq = 0;
  const worker = async (): Promise<never> => {
    for (;;) {
      const name = `${prefix}${seq++}`;
      const o = await store.create('crash/things', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'crash', labels: { writer: 'crash' } },
        data: { payload: 'x'.repeat(200) },
      } as never);
      process.stdout.write(`${name} ${o.metadata.resourceVersion}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

main().catch((err: unknown) => {
  process.stderr.write(`crash-writer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
