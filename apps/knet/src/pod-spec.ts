// `knet run` flags → the Pod it creates. Pure, so every flag form is unit-tested.
import type { ContainerPort, Pod, Probe, Protocol } from '@knet/api';

export type Readiness =
  | { kind: 'none' }
  | { kind: 'http'; path: string }
  | { kind: 'tcp' }
  | { kind: 'exec'; command: string };

export interface RunSpec {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
  readiness: Readiness;
  command: string[];
  nodeName: string;
  gracePeriodSeconds: number;
  /**
   * Seconds between the Pod turning terminating and SIGTERM, as a `preStop: sleep` hook: time for
   * every proxy to stop sending new connections before the process stops accepting them.
   */
  preStopSleepSeconds?: number;
  /** The process uses the node's address as its pod IP, as a `hostNetwork: true` Pod does. */
  hostNetwork?: boolean;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `[name:]port[/proto]`, as `-p http:8080/TCP`, `-p 53/udp`, `-p 8080`. */
export function parsePort(spec: string): ContainerPort {
  const m = /^(?:([a-z0-9-]+):)?(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new Error(`invalid port "${spec}": expected [name:]port[/tcp|udp|sctp], e.g. http:8080/tcp`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`invalid port "${spec}": the port must be between 1 and 65535`);
  const name = m[1]?.toLowerCase();
  if (name !== undefined && (name.length > 15 || !dns1123Label.test(name) || !/[a-z]/.test(name))) {
    throw new Error(`invalid port name "${name}": an IANA service name is at most 15 lower-case letters, digits and '-', with at least one letter`);
  }
  const protocol = (m[3]?.toUpperCase() ?? 'TCP') as Protocol;
  return { ...(name ? { name } : {}), containerPort: port, protocol };
}

/** `key=value`, with Kubernetes' rules for label keys and values. */
export function parseLabel(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`invalid label "${spec}": expected key=value`);
  const key = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
  const [prefix, name] = key.includes('/') ? key.split('/', 2) : [undefined, key];
  if (!namePart.test(name) || (prefix !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(prefix))) {
    throw new Error(`invalid label key "${key}": a name of at most 63 alphanumerics, '-', '_' or '.', optionally with a DNS prefix and '/'`);
  }
  if (value !== '' && !namePart.test(value)) {
    throw new Error(`invalid label value "${value}": at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`);
  }
  return [key, value];
}

/** `http:PATH`, `tcp` or `exec:CMD`. */
export function parseReadiness(spec: string | undefined): Readiness {
  if (spec === undefined) return { kind: 'none' };
  if (spec === 'tcp') return { kind: 'tcp' };
  if (spec.startsWith('http:')) {
    const path = spec.slice(5) || '/';
    return { kind: 'http', path: path.startsWith('/') ? path : `/${path}` };
  }
  if (spec.startsWith('exec:') && spec.length > 5) return { kind: 'exec', command: spec.slice(5) };
  throw new Error(`invalid readiness "${spec}": expected http:PATH, tcp or exec:COMMAND`);
}

function probeFor(r: Readiness, port: number | undefined): Probe | undefined {
  switch (r.kind) {
    case 'none':
      return undefined;
    case 'http':
      return { httpGet: { path: r.path, port: port ?? 80 }, periodSeconds: 1 };
    case 'tcp':
      return { tcpSocket: { port: port ?? 80 }, periodSeconds: 1 };
    case 'exec':
      return { exec: { command: ['sh', '-c', r.command] }, periodSeconds: 1 };
  }
}

export function podFor(spec: RunSpec): Pod {
  const probe = probeFor(spec.readiness, spec.ports[0]?.containerPort);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace, labels: spec.labels },
    spec: {
      nodeName: spec.nodeName,
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
      terminationGracePeriodSeconds: spec.gracePeriodSeconds,
      restartPolicy: 'Never',
      containers: [
        {
          name: spec.name,
          image: 'knet.local/process',
          command: spec.command,
          ...(spec.ports.length ? { ports: spec.ports } : {}),
          ...(probe ? { readinessProbe: probe } : {}),
          ...(spec.preStopSleepSeconds ? { lifecycle: { preStop: { sleep: { seconds: spec.preStopSleepSeconds } } } } : {}),
        },
      ],
    },
  };
}

/** The status a one-pod kubelet reports: Running with the given IP, Ready as last probed. */
export function podStatus(podIP: string, hostIP: string, ready: boolean, startTime: string, now: string): Pod['status'] {
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? ('True' as const) : ('False' as const), lastTransitionTime: now });
  return {
    phase: 'Running',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime,
    conditions: [cond('PodScheduled', true), cond('Initialized', true), cond('ContainersReady', ready), cond('Ready', ready)],
  };
}
