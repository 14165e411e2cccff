// Test support: the real proxy process, backends on ephemeral ports, curl, polling.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from '@knet/knet-app/testing';
import { createServer, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import type { EndpointSlice, Service } from '@knet/api';
import { KubeClient, loadKubeconfig, resources } from '@knet/client';
import { untilOk } from '@knet/component/testing';

export function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return untilOk(what, fn, timeoutMs, 50);
}

/**
 * The proxy `knet up` runs for its node (the real process, as deployed): its pid, its healthz and metrics
 * addresses, and its JSON log lines. Resolves once it has logged "ready" (its first full sync).
 */
export async function clusterProxy(cluster: TestCluster): Promise<{ pid: () => number; healthz: string; metrics: string; logs: () => Record<string, unknown>[] }> {
  const flag = (name: string) => cluster.args[cluster.args.lastIndexOf(name) + 1];
  const logFile = join(cluster.dataDir, 'logs', 'proxy.log');
  const logs = (): Record<string, unknown>[] =>
    existsSync(logFile)
      ? readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  await until('the cluster proxy is ready', () => logs().some((l) => l.msg === 'ready'), 30_000);
  return {
    pid: () => cluster.pid('proxy') ?? 0,
    healthz: `127.0.0.1:${flag('--proxy-healthz-port')}`,
    metrics: `127.0.0.1:${flag('--proxy-metrics-port')}`,
    logs,
  };
}

/** An HTTP backend answering its name (and the client's address) on 127.0.0.1:<ephemeral>. */
export async function httpBackend(name: string): Promise<{ name: string; port: number; server: Server; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
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

export function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
