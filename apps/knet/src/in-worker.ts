// Runs `knet up`'s setup tasks (setup-tasks.ts) in worker threads that end with them.
import { Worker } from 'node:worker_threads';
import type { SetupTasks } from './setup-tasks.js';

const workerModule = new URL('./setup-tasks.js', import.meta.url);

type Input<K extends keyof SetupTasks> = Parameters<SetupTasks[K]>[0];
type Output<K extends keyof SetupTasks> = Awaited<ReturnType<SetupTasks[K]>>;

export interface SetupWorker<K extends keyof SetupTasks> {
  /** Runs the task (once) and ends the worker. */
  run(input: Input<K>): Promise<Output<K>>;
  /** Ends the worker without running the task. */
  cancel(): void;
}

/**
 * Starts a worker for `task` now: it loads the task's modules while the caller waits for the moment
 * to run it (the bootstrap's API client loads while the apiserver finishes starting).
 */
export function setupWorker<K extends keyof SetupTasks>(task: K): SetupWorker<K> {
  const worker = new Worker(workerModule, { workerData: { task } });
  worker.unref(); // until its task is awaited, never what keeps `knet up` alive
  let ran = false;
  return {
    run(input) {
      if (ran) throw new Error(`setup task ${task} runs once`);
      ran = true;
      worker.ref(); // awaited now
      return new Promise((resolve, reject) => {
        let settled = false;
        worker.once('message', (m: { ok: true; value: Output<K> } | { ok: false; message: string }) => {
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
        worker.postMessage(input);
      });
    },
    cancel() {
      void worker.terminate();
    },
  };
}

export function inWorker<K extends keyof SetupTasks>(task: K, input: Input<K>): Promise<Output<K>> {
  return setupWorker(task).run(input);
}
