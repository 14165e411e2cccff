// Test support: the real proxy process, backends on ephemeral ports, curl, polling.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import type { EndpointSlice, Node, Service } from '@knet/api';
import { KubeClient, loadKubeconfig, resources } from '@knet/client';

export const proxyMain = fileURLToPath(new URL('../main.js', import.meta.url));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ProxyProcess {
  child: ChildProcess;
  pid: number;
  healthz: string;
  metrics: string;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts dist/main.js and resolves once it logs "ready". */
export async function startProxy(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [proxyMain, '--healthz-bind-address', '127.0.0.1:0', '--metrics-bind-address', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  try {
    const ready = await until('proxy ready', () => {
      if (child.exitCode !== null) throw new Error(`proxy exited ${child.exitCode}: ${stderr}${JSON.stringify(logs)}`);
      return logs.find((l) => l.msg === 'ready');
    });
    return { child, pid: child.pid!, healthz: String(ready.healthz), metrics: String(ready.metrics), logs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** An HTTP backend answering its name (and the client's address) on 127.0.0.1:<ephemeral>. */
export async function httpBackend(name: string): Promise<{ name: string; port: number; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    name,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function udpEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const s = createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

/** curl's body, or throws with curl's exit code (e.g. 7 refused, 52 empty reply, 56 reset, 28 timeout). */
export function curl(url: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '5', ...extra, url], (err, stdout, stderr) => (err ? reject(new Error(`curl ${url}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
  });
}

export async function kube(kubeconfig: string): Promise<KubeClient> {
  return new KubeClient(await loadKubeconfig(kubeconfig));
}

export function service(name: string, spec: Partial<Service['spec']>, annotations?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) }, spec: { ports: [{ name: 'http', port: 80 }], ...spec } };
}

export interface EP {
  port: number;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  node?: string;
  ip?: string;
}

/** An EndpointSlice for `svc` whose endpoints are 127.0.0.1 backends distinguished by port (one slice port per backend is not possible, so one slice per backend). */
export function slicesFor(svc: string, eps: EP[], portName = 'http', protocol: 'TCP' | 'UDP' = 'TCP'): EndpointSlice[] {
  return eps.map((e, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svc}-${i}`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'test' },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [e.ip ?? '127.0.0.1'], nodeName: e.node ?? 'proxy-test-node', conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } }],
    ports: [{ name: portName, port: e.port, protocol }],
  }));
}

export async function createAll(client: KubeClient, slices: EndpointSlice[]): Promise<void> {
  for (const s of slices) await client.create(resources.endpointslices, 'default', s);
}

export async function registerNode(client: KubeClient, name: string, address: string): Promise<void> {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name } };
  await client.create(resources.nodes, undefined, node);
  await client.patch(resources.nodes, undefined, name, { status: { addresses: [{ type: 'InternalIP', address }] } }, 'merge', { subresource: 'status' });
}

export function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
