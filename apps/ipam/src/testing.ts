// Starting the real ipam process in tests: wait for its ready line, stop it by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { until as pollUntil } from '@knet/component/testing';

export const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface IpamProcess {
  child: ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'knet-ipam-app-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Spawns `node dist/main.js args`; the test's teardown kills it by PID if it still runs. */
export function spawnIpam(t: ExecutionContext, args: string[]): IpamProcess {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': it comes after stdout and stderr are drained, so the output is all there.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  });
  return { child, lines, stderr: () => err, exited };
}

/** The shared poller with this suite's longer default deadline (a child process starts). */
export function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  return pollUntil(what, fn, ms);
}

export function logLines(p: IpamProcess): Record<string, unknown>[] {
  return p.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Starts the app and resolves to the address from its ready line. */
export async function startIpam(t: ExecutionContext, args: string[]): Promise<IpamProcess & { address: string }> {
  const p = spawnIpam(t, args);
  const address = await until('the ready line', () => {
    if (p.child.exitCode !== null) throw new Error(`ipam exited ${p.child.exitCode}: ${p.stderr()} ${p.lines.join('\n')}`);
    const ready = logLines(p).find((l) => l.msg === 'ready');
    return typeof ready?.address === 'string' ? ready.address : undefined;
  });
  return { ...p, address };
}
