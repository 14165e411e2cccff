import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApplyResult, DataplaneOptions, ServiceEntry } from '../types.js';

export interface DataplaneChild {
  child: ChildProcess;
  result: ApplyResult;
  addresses: Array<{ address: string; port: number } | undefined>;
  /** Peak resident memory of the child (VmHWM), in bytes. */
  peakRss(): number;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./dataplane-child.js', import.meta.url));

/** Runs a Dataplane in its own process; the caller must stop() it (use t.teardown). */
export function startDataplaneChild(
  table: ServiceEntry[],
  opts: DataplaneOptions = {},
  spawnOpts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<DataplaneChild> {
  const child = spawn(process.execPath, [script, JSON.stringify(table), JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...spawnOpts,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      try {
        const parsed = JSON.parse(out.slice(0, nl)) as Pick<DataplaneChild, 'result' | 'addresses'>;
        resolve({
          child,
          ...parsed,
          peakRss: () => {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            return m ? Number(m[1]) * 1024 : NaN;
          },
          stop,
        });
      } catch (err) {
        void stop();
        reject(err as Error);
      }
    });
    child.once('exit', (code) => reject(new Error(`dataplane child exited early with ${code}: ${out}`)));
  });
}
