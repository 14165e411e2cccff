// Test helper for every suite that needs a control plane: a real ipam process and a real
// apiserver process on ephemeral ports with temp data dirs, plus a kubeconfig for kubectl.
//   const cp = await startControlPlane(); t.teardown(() => cp.stop());
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { apiserverTlsFlags, componentIdentities, ensureClusterCredentials, ipamTlsFlags, type ClusterCredentials } from '@knet/pki';

export interface ControlPlaneOptions {
  /** Object store directory; a temp dir (removed by stop) when absent. */
  dataDir?: string;
  /** Default 127.96.0.0/12. */
  serviceCIDR?: string;
  nodePortRange?: string;
  /** Extra apiserver flags, e.g. ['--watch-bookmark-interval', '200ms']. */
  apiserverArgs?: string[];
  /** Node.js flags for the apiserver process, e.g. ['--cpu-prof'] in a benchmark. */
  apiserverNodeFlags?: string[];
  /** Milliseconds to wait for both processes to be ready; default 30 s. */
  startTimeoutMs?: number;
  /**
   * TLS, tokens and least privilege as `knet up` runs them: credentials from ensureClusterCredentials
   * in the temp dir, HTTPS + --token-auth-file + --client-ca-file + `Pod,ABAC`, ipam over mTLS.
   * The kubeconfig then carries the CA and the admin token.
   */
  secure?: boolean;
}

export interface ControlPlane {
  url: string;
  kubeconfigPath: string;
  /** host:port of the ipam gRPC server. */
  ipamAddress: string;
  apiserverPid: number;
  /** The ipam process, or this process when ipam runs in-process (apps/ipam not built). */
  ipamPid: number;
  /** Temp directory holding the kubeconfig (and the data dirs unless given). */
  dir: string;
  /** Stops both processes (SIGTERM by PID, SIGKILL after 5 s) and removes temp dirs. Idempotent. */
  stop(): Promise<void>;
  /** Stops only the apiserver (for restart tests); startApiserver() brings it back on the same data. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  /** Stops the ipam process (to test what the apiserver does without it). */
  stopIpam(): Promise<void>;
  /** With `secure`: the cluster credentials (CA PEM, tokens by identity name, file paths). */
  credentials?: ClusterCredentials;
}

export const APISERVER_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
export const IPAM_MAIN = fileURLToPath(new URL('../../ipam/dist/main.js', import.meta.url));

interface Proc { child: ChildProcess; output: string[] }

function startProcess(script: string, args: string[], readyKey: string, timeoutMs: number, nodeFlags: string[] = []): Promise<{ proc: Proc; value: string }> {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const proc = { child, output };
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${script} not ready after ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    const finish = (err?: Error, value?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        killProcess(proc).finally(() => reject(err));
      } else {
        resolve({ proc, value: value! });
      }
    };
    const remember = (line: string): void => {
      output.push(line);
      if (output.length > 200) output.shift();
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        remember(line);
        if (done) continue;
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          if (j['msg'] === 'ready' && typeof j[readyKey] === 'string') finish(undefined, j[readyKey] as string);
        } catch { /* not JSON */ }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(remember));
    child.once('exit', (code, signal) => finish(new Error(`${script} exited (${code ?? signal}) before ready:\n${output.join('\n')}`)));
    child.once('error', (err) => finish(err));
  });
}

/**
 * Runs the apiserver with `args` to its exit, as a refused start does: the exit code and all it wrote to stderr.
 * Killed after `timeoutMs` if it starts instead (code null).
 */
export function apiserverExit(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [APISERVER_MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.once('close', (code) => { // after stderr is drained
    clearTimeout(timer);
    resolve({ code, stderr });
  }));
}

export function killProcess(p: Proc, graceMs = 5000): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const pid = child.pid!;
    const timer = setTimeout(() => {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try { process.kill(pid, 'SIGTERM'); } catch { clearTimeout(timer); resolve(); }
  });
}

/** A kubeconfig for kubectl; with `auth`, the CA to verify HTTPS and a bearer token. */
export function kubeconfig(url: string, namespace = 'default', auth: { caPem?: string; token?: string } = {}): string {
  return [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: knet', '  cluster:', `    server: ${url}`,
    ...(auth.caPem ? [`    certificate-authority-data: ${Buffer.from(auth.caPem).toString('base64')}`] : []),
    'contexts:', '- name: knet', '  context:', '    cluster: knet', '    user: knet', `    namespace: ${namespace}`,
    'current-context: knet',
    'users:', '- name: knet', ...(auth.token ? ['  user:', `    token: ${auth.token}`] : ['  user: {}']), '',
  ].join('\n');
}

async function waitReady(url: string, timeoutMs: number, caPem?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const dispatcher = caPem ? new Agent({ connect: { ca: caPem } }) : undefined;
  for (;;) {
    try {
      const r = await request(`${url}/readyz`, dispatcher ? { dispatcher } : {});
      await r.body.text();
      if (r.statusCode === 200) {
        await dispatcher?.close();
        return;
      }
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`apiserver at ${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** ipam as a process (apps/ipam/dist/main.js) or, when that app is not built, in this process. */
async function startIpam(dir: string, cidr: string, nodePortRange: string, timeoutMs: number, creds?: ClusterCredentials): Promise<{ address: string; stop(): Promise<void>; proc?: Proc }> {
  if (existsSync(IPAM_MAIN)) {
    const ipam = await startProcess(IPAM_MAIN, [
      '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'ipam'), '--service-cluster-ip-range', cidr,
      '--node-port-range', nodePortRange, '--repair-interval', '0', ...(creds ? ipamTlsFlags(creds) : []),
    ], 'address', timeoutMs);
    return { address: ipam.value, proc: ipam.proc, stop: () => killProcess(ipam.proc) };
  }
  const { createIpamServer, ipamServerTlsCredentials } = await import('@knet/ipam');
  const { readFile } = await import('node:fs/promises');
  const credentials = creds
    ? ipamServerTlsCredentials({ ca: creds.caPem, cert: await readFile(creds.ipamServerCertFile), key: await readFile(creds.ipamServerKeyFile) })
    : undefined;
  const server = createIpamServer({
    dbPath: join(dir, 'ipam'), serviceCIDRs: cidr.split(','), nodePortRange, loadBalancerCIDRs: ['127.200.0.0/16'],
    ...(credentials ? { credentials, allowedClientNames: ['kube-apiserver'] } : {}),
  });
  const port = await server.listen('127.0.0.1:0');
  let closed = false;
  return { address: `127.0.0.1:${port}`, stop: async () => { if (!closed) { closed = true; await server.close(); } } };
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'knet-cp-'));
  const dataDir = opts.dataDir ?? join(dir, 'apiserver');
  const cidr = opts.serviceCIDR ?? '127.96.0.0/12';
  const procs: Proc[] = [];
  let apiserver: Proc | undefined;
  let ipam: Awaited<ReturnType<typeof startIpam>> | undefined;
  let stopped = false;
  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map((p) => killProcess(p)));
    await ipam?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const creds = opts.secure
      ? await ensureClusterCredentials(dir, { apiserverIPs: [], apiserverDNSNames: [], identities: componentIdentities() })
      : undefined;
    ipam = await startIpam(dir, cidr, opts.nodePortRange ?? '30000-32767', timeoutMs, creds);
    const ipamAddress = ipam.address;
    const ipamHandle = ipam;
    let url = '';
    const startApiserver = async (): Promise<void> => {
      const a = await startProcess(APISERVER_MAIN, [
        '--listen', url ? url.replace(/^https?:\/\//, '') : '127.0.0.1:0', '--data-dir', dataDir, '--ipam', ipamAddress,
        '--service-cluster-ip-range', cidr, '--advertise-address', '127.0.0.1', ...(creds ? apiserverTlsFlags(creds) : []),
        ...(opts.apiserverArgs ?? []),
      ], 'url', timeoutMs, opts.apiserverNodeFlags);
      apiserver = a.proc;
      procs.push(a.proc);
      url = a.value;
      await waitReady(url, timeoutMs, creds?.caPem);
    };
    await startApiserver();
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(url, 'default', creds ? { caPem: creds.caPem, token: creds.tokens['admin']! } : {}), { mode: 0o600 });
    return {
      url, kubeconfigPath, ipamAddress, dir, ...(creds ? { credentials: creds } : {}),
      get apiserverPid() { return apiserver?.child.pid ?? -1; },
      ipamPid: ipamHandle.proc?.child.pid ?? process.pid,
      stop: stopAll,
      stopApiserver: async () => { if (apiserver) await killProcess(apiserver); },
      startApiserver,
      stopIpam: () => ipamHandle.stop(),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
