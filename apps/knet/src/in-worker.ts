// Runs one of `knet up`'s setup tasks (setup-tasks.ts) in a worker thread that ends with it.
import { Worker } from 'node:worker_threads';
import type { SetupTasks } from './setup-tasks.js';

const workerModule = new URL('./setup-tasks.js', import.meta.url);

export function inWorker<K extends keyof SetupTasks>(task: K, input: Parameters<SetupTasks[K]>[0]): Promise<Awaited<ReturnType<SetupTasks[K]>>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerModule, { workerData: { task, input } });
    let settled = false;
    worker.once('message', (m: { ok: true; value: Awaited<ReturnType<SetupTasks[K]>> } | { ok: false; message: string }) => {
      settled = true;
      // The task is done: end the worker now, whatever handles its libraries left open.
      void worker.terminate();
      if (m.ok) resolve(m.value);
      else reject(new Error(m.message));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`setup task ${task} ended (exit code ${code}) without an answer`));
    });
  });
}
