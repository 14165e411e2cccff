// Start the real dns process for tests and benchmarks: `node dist/main.js ...`, read its JSON log lines,
// stop it by PID. Exported as @knet/dns-app/testing.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const dnsMain = fileURLToPath(new URL('./main.js', import.meta.url));

export interface DnsProcess {
  pid: number;
  process: ChildProcess;
  /** UDP (= TCP) port, once the "ready" line was printed; 0 before. */
  port: number;
  /** Port of /metrics, /health and /ready; 0 without --metrics-listen. */
  metricsPort: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the first JSON log line whose msg is msg (rejects if the process exits first or on timeout). */
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with how it ended, once it has (without signalling it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 10 s; resolves with how it ended. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartDnsOptions {
  kubeconfig: string;
  /** Flags for node itself, before the script (e.g. V8 heap settings). */
  nodeArgs?: string[];
  /** Extra flags; --listen and --metrics-listen default to 127.0.0.1:0. */
  args?: string[];
  /** Wait for this log msg before resolving: 'ready' (default), 'metrics listening', or null for nothing. */
  waitFor?: string | null;
  timeoutMs?: number;
}

export async function startDns(opts: StartDnsOptions): Promise<DnsProcess> {
  const args = opts.args ?? [];
  const withDefault = (flag: string, value: string): string[] => (args.includes(flag) ? [] : [flag, value]);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), dnsMain, '--kubeconfig', opts.kubeconfig, ...withDefault('--listen', '127.0.0.1:0'), ...withDefault('--metrics-listen', '127.0.0.1:0'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // 'close', not 'exit': it comes after stdout and stderr are drained, so the output is all there.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  child.once('exit', () => {
    for (const w of waiters) w();
  });
  const p: DnsProcess = {
    pid: child.pid!,
    process: child,
    port: 0,
    metricsPort: 0,
    output: () => out,
    exited,
    waitFor: (msg, timeoutMs = opts.timeoutMs ?? 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`dns did not log ${JSON.stringify(msg)} within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        const check = (): void => {
          const hit = lines.find((l) => l.msg === msg);
          if (hit) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`dns exited (${child.exitCode ?? child.signalCode}) before logging ${JSON.stringify(msg)}:\n${out}`));
          }
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const r = await exited;
        clearTimeout(timer);
        return r;
      }
      return exited;
    },
  };
  const portOf = (addr: unknown): number => Number(String(addr ?? '').split(':').pop());
  const watchPorts = (): void => {
    for (const l of lines) {
      if (l.msg === 'metrics listening') p.metricsPort = portOf(l.metrics);
      if (l.msg === 'ready') p.port = Number(l.udpPort);
    }
  };
  waiters.add(watchPorts);
  const wanted = opts.waitFor === undefined ? 'ready' : opts.waitFor;
  if (wanted !== null) {
    try {
      await p.waitFor(wanted);
    } catch (err) {
      await p.stop();
      throw err;
    }
  }
  return p;
}
