// Start a real local cluster (`knet up` as a child process) for tests and benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataDir as layout, readState, type ClusterState } from './data-dir.js';

export const knetBin = fileURLToPath(new URL('../bin/knet.js', import.meta.url));

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TestCluster {
  dataDir: string;
  apiserver: string;
  kubeconfig: string;
  process: ChildProcess;
  state(): ClusterState;
  /** The pid of one component, as the supervisor reports it now. */
  pid(component: string): number | undefined;
  stop(): Promise<void>;
}

export async function startCluster(opts: { dataDir?: string; args?: string[]; timeoutMs?: number } = {}): Promise<TestCluster> {
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'knet-'));
  const args = [knetBin, 'up', '--data-dir', dir, '--api-port', String(await freePort()), '--ipam-port', String(await freePort()), ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const paths = layout(dir);
  for (;;) {
    const s = readState(paths);
    if (s && s.pid === child.pid && s.ready) {
      return {
        dataDir: dir,
        apiserver: s.apiserver,
        kubeconfig: s.kubeconfig,
        process: child,
        state: () => readState(paths)!,
        pid: (name) => readState(paths)?.components.find((c) => c.name === name)?.pid,
        stop,
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`knet up did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
