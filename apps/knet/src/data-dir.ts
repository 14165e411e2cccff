// The layout of a cluster's data dir, and the lock that keeps two `knet up`s off one data dir.
import { mkdirSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ComponentState } from './supervisor.js';

export interface DataDir {
  root: string;
  logs: string;
  kubeconfig: string;
  pidFile: string;
  stateFile: string;
  component(name: string): string;
}

export function dataDir(path: string): DataDir {
  const root = resolve(path);
  return {
    root,
    logs: join(root, 'logs'),
    kubeconfig: join(root, 'kubeconfig'),
    pidFile: join(root, 'knet.pid'),
    stateFile: join(root, 'state.json'),
    component: (name) => join(root, name),
  };
}

export function ensureDataDir(dir: DataDir): void {
  mkdirSync(dir.logs, { recursive: true });
}

/** The pid of a live `knet up` that holds this data dir, if any. */
export function runningPid(dir: DataDir): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(dir.pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export function writePid(dir: DataDir): void {
  writeFileSync(dir.pidFile, `${process.pid}\n`);
}

export function releasePid(dir: DataDir): void {
  if (runningPid(dir) === process.pid) rmSync(dir.pidFile, { force: true });
}

export interface ClusterState {
  pid: number;
  ready: boolean;
  apiserver: string;
  kubeconfig: string;
  components: ComponentState[];
}

/** Written atomically so `knet status` never reads half a file. */
export function writeState(dir: DataDir, state: ClusterState): void {
  const tmp = `${dir.stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, dir.stateFile);
}

export function readState(dir: DataDir): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(dir.stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}
