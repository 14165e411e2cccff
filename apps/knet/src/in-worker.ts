// Runs `knet up`'s setup tasks (setup-tasks.ts) in worker processes that end with them. Processes, not
// worker threads: a thread's isolate leaves freed malloc memory in the supervisor, which stays
// resident for the cluster's life (measured: supervisor idle 65–77 MiB with threads, ~61 without).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mallocEnv } from './malloc-env.js';
import { setupTaskEnv, type SetupTasks } from './setup-tasks.js';

const workerModule = fileURLToPath(new URL('./setup-tasks.js', import.meta.url));

/** The supervisor's flags (bin/knet.js) but its interpreter-only ones: certificates and the API client are real work. */
const workerExecArgv = process.execArgv.filter((flag) => flag !== '--no-opt' && flag !== '--no-sparkplug');

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
  const worker = fork(workerModule, [], {
    execArgv: workerExecArgv,
    env: { ...process.env, ...mallocEnv, [setupTaskEnv]: task },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  // Until its task is awaited, never what keeps `knet up` alive.
  worker.unref();
  worker.channel?.unref();
  let ran = false;
  return {
    run(input) {
      if (ran) throw new Error(`setup task ${task} runs once`);
      ran = true;
      // Awaited now.
      worker.ref();
      worker.channel?.ref();
      return new Promise((resolve, reject) => {
        let settled = false;
        worker.once('message', (m: { ok: true; value: Output<K> } | { ok: false; message: string }) => {
          settled = true;
          // The task is done: end the worker now, whatever handles its libraries left open.
          worker.kill();
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
        worker.send(input);
      });
    },
    cancel() {
      worker.kill();
    },
  };
}

export function inWorker<K extends keyof SetupTasks>(task: K, input: Input<K>): Promise<Output<K>> {
  return setupWorker(task).run(input);
}
