// Runs the cluster's components as child processes: starts them in order, waits for each to be
// ready before the next, restarts one that dies (with backoff), and stops them in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';

export interface ComponentSpec {
  name: string;
  /** What `knet status` shows as the component's address. */
  address: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the component serves. Called repeatedly until it does. */
  ready: () => Promise<boolean>;
}

export interface ComponentState {
  name: string;
  address: string;
  pid?: number;
  ready: boolean;
  restarts: number;
  lastExit?: string;
}

export interface SupervisorOptions {
  logDir: string;
  /** How long a component may take to become ready. */
  readyTimeoutMs?: number;
  /** Restart backoff: doubles from initial up to max. */
  backoff?: { initialMs: number; maxMs: number };
  /** How long a stopping component gets before SIGKILL. */
  stopTimeoutMs?: number;
  /** Between readiness probes while a component starts. */
  readyPollMs?: number;
}

interface Running {
  spec: ComponentSpec;
  state: ComponentState;
  child?: ChildProcess;
  log: WriteStream;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
  readySince?: number;
  /** Output chunks the component has written: a component that logs is worth probing again at once. */
  outputs: number;
  wake?: () => void;
}

export class Supervisor extends EventEmitter {
  private readonly running: Running[] = [];
  private stopping = false;
  private readonly opts: Required<SupervisorOptions>;

  constructor(opts: SupervisorOptions) {
    super();
    this.opts = {
      readyTimeoutMs: 30_000,
      backoff: { initialMs: 250, maxMs: 10_000 },
      stopTimeoutMs: 5_000,
      // The fallback only: a component is probed again as soon as it writes to its log (it logs when it
      // listens and when it is ready), so the next one starts without lag and without busy polling.
      readyPollMs: 100,
      ...opts,
    };
  }

  /**
   * Starts components and resolves once all are ready: in order, each ready before the next
   * starts; or, with `parallel`, all at once (components that only need what is already up).
   */
  async start(specs: ComponentSpec[], opts: { parallel?: boolean } = {}): Promise<void> {
    const add = (spec: ComponentSpec): Running => {
      const r: Running = {
        spec,
        state: { name: spec.name, address: spec.address, ready: false, restarts: 0 },
        log: createWriteStream(join(this.opts.logDir, `${spec.name}.log`), { flags: 'a' }),
        backoffMs: this.opts.backoff.initialMs,
        outputs: 0,
      };
      this.running.push(r);
      this.launch(r);
      return r;
    };
    if (opts.parallel) {
      if (this.stopping) return;
      await Promise.all(specs.map(add).map((r) => this.waitReady(r)));
      return;
    }
    for (const spec of specs) {
      if (this.stopping) return;
      await this.waitReady(add(spec));
    }
  }

  states(): ComponentState[] {
    return this.running.map((r) => ({ ...r.state }));
  }

  /**
   * From now on a component that exits stays down. Called the moment a shutdown begins: Ctrl-C in a
   * terminal signals the whole process group, so components exit while other things are still stopping.
   */
  holdRestarts(): void {
    this.stopping = true;
    for (const r of this.running) clearTimeout(r.restartTimer);
  }

  /** Stops every component, last started first. */
  async stop(): Promise<void> {
    this.holdRestarts();
    for (const r of [...this.running].reverse()) {
      clearTimeout(r.restartTimer);
      await this.kill(r);
      await new Promise<void>((resolve) => r.log.end(resolve));
    }
  }

  private launch(r: Running): void {
    const child = spawn(r.spec.command, r.spec.args, {
      env: { ...process.env, ...r.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    r.child = child;
    r.state.pid = child.pid;
    r.state.ready = false;
    const output = () => {
      r.outputs++;
      r.wake?.();
    };
    child.stdout?.on('data', output).pipe(r.log, { end: false });
    child.stderr?.on('data', output).pipe(r.log, { end: false });
    child.on('error', (err) => {
      r.state.lastExit = err.message;
    });
    child.on('exit', (code, signal) => {
      r.child = undefined;
      r.state.ready = false;
      r.state.pid = undefined;
      r.state.lastExit = signal ? `signal ${signal}` : `exit code ${code}`;
      if (this.stopping) return;
      // A component that stayed up a while earns a fresh backoff.
      if (r.readySince && Date.now() - r.readySince > 30_000) r.backoffMs = this.opts.backoff.initialMs;
      this.emit('exit', r.spec.name, r.state.lastExit, r.backoffMs);
      r.restartTimer = setTimeout(() => {
        r.state.restarts++;
        this.launch(r);
        this.waitReady(r).catch((err: Error) => this.emit('unready', r.spec.name, err.message));
      }, r.backoffMs);
      r.backoffMs = Math.min(r.backoffMs * 2, this.opts.backoff.maxMs);
    });
    this.emit('start', r.spec.name, child.pid);
  }

  private async waitReady(r: Running): Promise<void> {
    const child = r.child;
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    while (!this.stopping) {
      if (!child || r.child !== child) {
        throw new Error(
          `${r.spec.name} exited (${r.state.lastExit}) before it was ready; see ${join(this.opts.logDir, r.spec.name + '.log')}`,
        );
      }
      const outputs = r.outputs;
      if (await r.spec.ready().catch(() => false)) {
        r.state.ready = true;
        r.readySince = Date.now();
        this.emit('ready', r.spec.name);
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${r.spec.name} did not become ready within ${this.opts.readyTimeoutMs / 1000}s; see ${join(this.opts.logDir, r.spec.name + '.log')}`,
        );
      }
      if (r.outputs === outputs) await this.nextProbe(r);
    }
  }

  /** Waits for the component's next output, or readyPollMs. */
  private nextProbe(r: Running): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        r.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.opts.readyPollMs);
      r.wake = done;
    });
  }

  private kill(r: Running): Promise<void> {
    const child = r.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
