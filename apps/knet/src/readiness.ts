// One readiness probe of a `knet run` pod, as the kubelet runs them: HTTP 2xx/3xx, TCP connect, or exit 0.
import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { Readiness } from './pod-spec.js';
import { tcpReady } from './probe.js';

const timeoutMs = 1000;

export async function probeOnce(r: Readiness, ip: string, port: number | undefined, env: NodeJS.ProcessEnv): Promise<boolean> {
  switch (r.kind) {
    case 'none':
      return true;
    case 'tcp':
      return port !== undefined && tcpReady(ip, port, timeoutMs);
    case 'http':
      if (port === undefined) return false;
      try {
        const res = await request(`http://${ip}:${port}${r.path}`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        await res.body.dump();
        return res.statusCode >= 200 && res.statusCode < 400;
      } catch {
        return false;
      }
    case 'exec':
      return new Promise((resolve) => {
        const child = spawn('sh', ['-c', r.command], { stdio: 'ignore', env });
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', () => resolve(false));
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code === 0);
        });
      });
  }
}
