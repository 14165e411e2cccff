// Integration-test helpers: the real controller process next to a real control plane.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, untilOk } from '@knet/component/testing';

export const CONTROLLER_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface ControllerProcess {
  child: ChildProcess;
  pid: number;
  /** stdout lines (JSON logs) and stderr so far. */
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  healthzPort: number;
}

/** A port that was free a moment ago (for the healthz server, where 0 means "off"). */
export { freePort };

export function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  return untilOk(what, fn, ms, 25);
}

export function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/**
 * Starts `node dist/main.js args` and waits for its ready line. `cleanup` receives the
 * function that kills it by PID (pass `t.teardown.bind(t)`, or collect it in a hook).
 */
export async function startController(cleanup: (fn: () => Promise<void>) => void, args: string[]): Promise<ControllerProcess> {
  const healthzPort = await freePort();
  const child = spawn(process.execPath, [CONTROLLER_MAIN, '--healthz-port', String(healthzPort), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': it comes after stdout and stderr are drained, so the output is all there.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  };
  cleanup(kill);
  try {
    await until('the controller ready line', () => {
      if (child.exitCode !== null) throw new Error(`controller exited ${child.exitCode}: ${err} ${lines.join('\n')}`);
      return jsonLines(lines).some((l) => l.msg === 'ready');
    });
  } catch (e) {
    await kill();
    throw e;
  }
  return { child, pid: child.pid!, lines, stderr: () => err, exited, healthzPort };
}
