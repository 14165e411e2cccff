// The e2e suites drive a real cluster the way a user does: kubectl, curl, dig and `knet run`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { echoServer, knetBin, startCluster, type TestCluster } from '@knet/knet-app/testing';
import { request as undiciRequest } from 'undici';

const exec = promisify(execFile);

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export async function sh(cmd: string, args: string[], timeoutMs = 30_000): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Polls `fn` until it returns something other than undefined, or fails with `what`. */
export async function until<T>(fn: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class E2ECluster {
  /** Running `knet run` pods by ns/name, with the last lines their processes printed. */
  private readonly pods = new Map<string, { child: ChildProcess; output: string[] }>();
  readonly cacheDir = mkdtempSync(join(tmpdir(), 'knet-kubectl-'));

  private constructor(public cluster: TestCluster) {}

  static async start(args: string[] = []): Promise<E2ECluster> {
    return new E2ECluster(await startCluster({ args }));
  }

  /** Stops the cluster and starts it again on the same data dir (and ports). */
  async restart(): Promise<void> {
    await this.stopPods();
    const { dataDir, args } = this.cluster;
    await this.cluster.stop();
    this.cluster = await startCluster({ dataDir, reuseArgs: args });
  }

  async stop(): Promise<void> {
    await this.stopPods();
    await this.cluster.stop();
  }

  kubectl(...args: string[]): Promise<Result> {
    return sh('kubectl', ['--kubeconfig', this.cluster.kubeconfig, '--cache-dir', this.cacheDir, ...args]);
  }

  async kubectlOk(...args: string[]): Promise<string> {
    const r = await this.kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  async apply(manifest: string): Promise<string> {
    const file = join(this.cacheDir, `manifest-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, manifest);
    return this.kubectlOk('apply', '-f', file);
  }

  jsonpath(kind: string, name: string, ns: string, path: string): Promise<string> {
    return this.kubectlOk('get', kind, name, '-n', ns, '-o', `jsonpath=${path}`);
  }

  /** The kube-dns Service address, where pods send their queries. */
  async dnsIP(): Promise<string> {
    return this.jsonpath('svc', 'kube-dns', 'kube-system', '{.spec.clusterIP}');
  }

  async dig(name: string, type = 'A', ...opts: string[]): Promise<string[]> {
    const r = await sh('dig', [`@${await this.dnsIP()}`, name, type, '+short', '+time=2', '+tries=2', ...opts]);
    if (r.code !== 0) throw new Error(`dig ${name} ${type}: ${r.stdout}${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  /** The full dig answer (status line included), for rcodes. */
  async digStatus(name: string, type = 'A'): Promise<string> {
    const r = await sh('dig', [`@${await this.dnsIP()}`, name, type, '+time=2', '+tries=2']);
    return /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer: ${r.stdout}${r.stderr}`;
  }

  async curl(url: string, ...opts: string[]): Promise<Result> {
    return sh('curl', ['-s', '--max-time', '3', ...opts, url]);
  }

  /** `knet run` of the demo echo server: answers HTTP with its pod name. */
  runPod(name: string, ns: string, labels: string[], extra: string[] = []): ChildProcess {
    const args = [knetBin, 'run', name, '-n', ns, '--data-dir', this.cluster.dataDir, '-p', 'http:8080', '--readiness', 'http:/', '--grace-period', '3'];
    for (const l of labels) args.push('-l', l);
    const child = spawn(process.execPath, [...args, ...extra, '--', process.execPath, echoServer], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const output: string[] = [];
    const keep = (d: Buffer): void => {
      output.push(...d.toString().split('\n').filter(Boolean));
      if (output.length > 20) output.splice(0, output.length - 20);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => output.push(`(knet run exited: ${code ?? signal})`));
    this.pods.set(`${ns}/${name}`, { child, output });
    return child;
  }

  /** Stops a `knet run` pod as Ctrl-C would, and waits for it to finish. */
  async stopPod(name: string, ns: string): Promise<void> {
    const child = this.pods.get(`${ns}/${name}`)?.child;
    if (!child) return;
    this.pods.delete(`${ns}/${name}`);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }

  private async stopPods(): Promise<void> {
    await Promise.all([...this.pods.keys()].map((k) => this.stopPod(k.split('/')[1]!, k.split('/')[0]!)));
  }

  /** Kills every `knet run` process group left (a failed test), by PID. */
  killPods(): void {
    for (const { child } of this.pods.values()) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.pods.clear();
  }

  async podsReady(ns: string, selector: string, n: number): Promise<void> {
    try {
      await until(async () => {
        const out = await this.kubectlOk('get', 'pods', '-n', ns, '-l', selector, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
        const ready = out.split('\n').filter((s) => s === 'True').length;
        return ready === n ? true : undefined;
      }, `${n} ready pods matching ${selector} in ${ns}`);
    } catch (err) {
      // What the pods' processes said (knet run and the echo server) is what tells why.
      const said = [...this.pods].filter(([k]) => k.startsWith(`${ns}/`)).map(([k, { output }]) => `${k}:\n  ${output.join('\n  ')}`);
      throw new Error(`${(err as Error).message}\n${said.join('\n')}`);
    }
  }

  /** Ready endpoint addresses of a Service, as `kubectl get endpoints` sees them. */
  async endpoints(name: string, ns: string): Promise<string[]> {
    const out = await this.jsonpath('endpoints', name, ns, '{range .subsets[*].addresses[*]}{.ip}{"\\n"}{end}');
    return out.split('\n').filter(Boolean).sort();
  }
}

// ---- Helpers for the fault-tolerance suites (faults*.test.ts) ----

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
  text: string;
}

/**
 * One raw request to the apiserver as admin (over the cluster's TLS, with its token).
 * `body` is sent as is when it is a string, else as JSON. Connection errors throw.
 */
export async function apiRequest(
  cluster: TestCluster,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  contentType = 'application/json',
  timeoutMs = 30_000,
): Promise<ApiAnswer> {
  const res = await undiciRequest(`${cluster.apiserver}${path}`, {
    method,
    dispatcher: cluster.dispatcher,
    headers: { ...cluster.authHeaders, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed, text };
}

export { seededRandom } from '@knet/component/testing';

/** A component's restart count as `knet up`'s supervisor reports it. */
export function restarts(cluster: TestCluster, component: string): number {
  const s = cluster.state().components.find((x) => x.name === component);
  if (!s) throw new Error(`no component ${component} in the cluster state`);
  return s.restarts;
}

/** A ClusterIP Service in front of the `app=echo` pods, port 80 → their `http` port. */
export function echoService(name: string, namespace = 'default'): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector:
    app: echo
  ports:
  - name: http
    port: 80
    targetPort: http
`;
}
