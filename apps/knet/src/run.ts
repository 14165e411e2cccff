// `knet run`: a one-pod kubelet. Takes a pod IP, creates the Pod, runs the command with the pod's
// environment, keeps the Ready condition true to its probe, and on exit or Ctrl-C marks the Pod
// terminating for its grace period (on Ctrl-C: the preStop sleep, if any, then SIGTERM), then
// deletes it and frees the IP.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { KubeClient, resources, isAlreadyExists, isNotFound, type ClusterConfig } from '@knet/client';
import type { Node, Pod, Service } from '@knet/api';
import { serviceEnvVars } from '@knet/api';
import { podFor, podStatus, type RunSpec } from './pod-spec.js';
import { PodIPAllocator } from './pod-ip.js';
import { probeOnce } from './readiness.js';
import { CliError } from './cli-error.js';
import { localNodeName } from './node-name.js';

export interface RunOptions {
  cluster: ClusterConfig;
  /** Where the node keeps its pod IP leases. */
  stateDir: string;
  node?: string;
  spec: Omit<RunSpec, 'nodeName'>;
}

/**
 * The Node to run on: the one named, else this machine's (named as `knet up` names it by default), else the
 * first registered. Not simply the first by name: a Node joined later (`knet join`) would take every pod.
 */
async function pickNode(client: KubeClient, name?: string): Promise<Node> {
  if (name) {
    try {
      return await client.get<Node>(resources.nodes, undefined, name);
    } catch (err) {
      if (isNotFound(err)) throw new CliError(`node "${name}" does not exist`, 'list the nodes with `kubectl get nodes`');
      throw err;
    }
  }
  const nodes = (await client.list<Node>(resources.nodes)).items;
  if (nodes.length === 0) throw new CliError('no Node is registered', 'start the cluster with `knet up`, which registers this machine as a Node');
  return nodes.find((n) => n.metadata.name === localNodeName()) ?? nodes.sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!))[0];
}

/** The environment Kubernetes gives a container: service links of its namespace plus the `kubernetes` Service. */
export async function serviceEnvironment(client: KubeClient, namespace: string): Promise<Record<string, string>> {
  const services = (await client.list<Service>(resources.services, { namespace })).items;
  if (namespace !== 'default') {
    try {
      services.push(await client.get<Service>(resources.services, 'default', 'kubernetes'));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return serviceEnvVars(services);
}

export async function run(o: RunOptions): Promise<number> {
  const client = new KubeClient(o.cluster);
  const { name, namespace } = o.spec;
  let ips: PodIPAllocator | undefined;
  let ip: string | undefined;
  let created = false;
  // Listen for Ctrl-C before anything exists, so a signal during set-up still cleans up.
  let signalled = false;
  const stopping = new Promise<'signal'>((resolve) => {
    const onSignal = () => {
      signalled = true;
      resolve('signal');
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    const node = await pickNode(client, o.node);
    const nodeName = node.metadata.name!;
    const hostIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
    const podCIDR = node.spec?.podCIDR;
    if (o.spec.hostNetwork) {
      ip = hostIP;
    } else {
      if (!podCIDR) throw new CliError(`node "${nodeName}" has no spec.podCIDR`, 'give the node a pod range, e.g. `kubectl patch node ... -p \'{"spec":{"podCIDR":"127.244.0.0/24"}}\'`, or run with --host-network');
      ips = new PodIPAllocator(join(o.stateDir, 'pod-ips', nodeName), podCIDR);
      ip = ips.allocate(`${namespace}/${name}`);
    }

    const spec: RunSpec = { ...o.spec, nodeName };
    try {
      await client.create(resources.pods, namespace, podFor(spec));
    } catch (err) {
      if (isAlreadyExists(err)) {
        throw new CliError(`pod "${name}" already exists in namespace "${namespace}"`, `choose another name, or delete it: kubectl delete pod ${name} -n ${namespace}`);
      }
      if (isNotFound(err)) throw new CliError(`namespace "${namespace}" does not exist`, `create it: kubectl create namespace ${namespace}`);
      throw err;
    }
    created = true;
    const startTime = new Date().toISOString();
    const probed = spec.readiness.kind !== 'none';
    let ready = !probed;
    const writeStatus = async (isReady: boolean) => {
      const now = new Date().toISOString();
      await client.patch(resources.pods, namespace, name, { status: podStatus(ip!, hostIP, isReady, startTime, now) }, 'merge', { subresource: 'status' });
    };
    await writeStatus(ready);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...(await serviceEnvironment(client, namespace)),
      POD_IP: ip,
      POD_NAME: name,
      POD_NAMESPACE: namespace,
      NODE_NAME: nodeName,
      ...(spec.ports[0] ? { PORT: String(spec.ports[0].containerPort) } : {}),
    };
    if (signalled) return 128 + 15;
    const child = spawn(spec.command[0], spec.command.slice(1), { stdio: 'inherit', env });
    const exited = new Promise<number>((resolve) => {
      child.once('error', (err) => {
        process.stderr.write(`knet: cannot start ${spec.command[0]}: ${err.message}\n`);
        resolve(127);
      });
      child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });

    // Probe until the process exits; write the Ready condition only when it changes. Until the first
    // success (for at most its first 10 s) every 50 ms: a fresh pod gets its traffic as soon as it serves.
    let running = true;
    const prober = (async () => {
      let everReady = false;
      const fastUntil = Date.now() + 10_000;
      while (probed && running) {
        const ok = await probeOnce(spec.readiness, ip!, spec.ports[0]?.containerPort, env);
        everReady ||= ok;
        if (running && ok !== ready) {
          // Recorded once written: a failed write is tried again at the next probe.
          await writeStatus(ok).then(
            () => (ready = ok),
            (err: Error) => process.stderr.write(`knet: cannot update pod status: ${err.message}\n`),
          );
        }
        await new Promise((r) => setTimeout(r, !everReady && Date.now() < fastUntil ? 50 : 1000));
      }
    })();

    for (const sig of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(sig, () => child.kill(sig));
    const first = await Promise.race([exited.then(() => 'exit' as const), stopping]);
    running = false;
    // Terminating: endpoints stop sending new traffic while the process finishes.
    await client.delete(resources.pods, namespace, name, { gracePeriodSeconds: spec.gracePeriodSeconds }).catch(() => {});
    const code = first === 'exit' ? await exited : await terminate(child, exited, spec.gracePeriodSeconds, spec.preStopSleepSeconds ?? 0);
    await prober;
    return code;
  } finally {
    if (created) await client.delete(resources.pods, namespace, name, { gracePeriodSeconds: 0 }).catch(() => {});
    if (ip && ips) ips.release(ip);
    await client.close();
  }
}

/** The kubelet always gives a container this long after its preStop hook before SIGKILL. */
const MIN_GRACE_AFTER_HOOK_SECONDS = 2;

/**
 * Stops the process as the kubelet stops a container: the preStop sleep first (the grace period
 * counts from its start), then SIGTERM, then SIGKILL once the grace period is over.
 */
async function terminate(child: ChildProcess, exited: Promise<number>, graceSeconds: number, preStopSleepSeconds: number): Promise<number> {
  let left = graceSeconds;
  if (preStopSleepSeconds > 0) {
    let timer: NodeJS.Timeout | undefined;
    const slept = new Promise<void>((resolve) => (timer = setTimeout(resolve, preStopSleepSeconds * 1000)));
    const exitedFirst = await Promise.race([exited.then(() => true), slept.then(() => false)]);
    clearTimeout(timer);
    if (exitedFirst) return exited;
    left = Math.max(graceSeconds - preStopSleepSeconds, MIN_GRACE_AFTER_HOOK_SECONDS);
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), left * 1000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 0;
}
