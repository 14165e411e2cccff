// `knet up`: run the local cluster in the foreground (or detached), until Ctrl-C or `knet down`.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodePodCIDR } from './node-name.js';
import { bootstrapCluster, writeKubeconfigs } from './cluster-bootstrap.js';
import { startDemo, type Demo } from './demo.js';
import { componentIdentities, ensureClusterCredentials } from '@knet/pki';
import { Supervisor } from './supervisor.js';
import { controlPlaneComponents, nodeComponents, apiserverURL, serviceIP, type ClusterOptions } from './components.js';
import {
  ensureDataDir,
  readState,
  releasePid,
  runningPid,
  writePid,
  writeState,
  type DataDir,
} from './data-dir.js';
import { tcpReady } from './probe.js';
import { CliError } from './cli-error.js';

export async function up(o: ClusterOptions, detach: boolean, demo: boolean, secure: boolean, argv: string[]): Promise<void> {
  ensureDataDir(o.dataDir);
  const pid = runningPid(o.dataDir);
  if (pid) {
    throw new CliError(
      `a cluster is already running on data dir ${o.dataDir.root} (pid ${pid})`,
      `see it with \`knet status --data-dir ${o.dataDir.root}\`, or stop it with \`knet down --data-dir ${o.dataDir.root}\``,
    );
  }
  const ports = [
    ['--api-port', o.apiPort],
    ['--ipam-port', o.ipamPort],
    ['--dns-port', o.dnsPort],
    ['--dns-metrics-port', o.dnsMetricsPort],
    ['--controller-healthz-port', o.controllerHealthzPort],
    ['--proxy-healthz-port', o.proxyHealthzPort],
    ['--proxy-metrics-port', o.proxyMetricsPort],
  ] as const;
  for (const [flag, port] of ports) {
    if (await tcpReady(o.host, port, 300)) {
      throw new CliError(
        `${o.host}:${port} is already in use (another knet on a different data dir, or another program)`,
        `stop that program, or choose another port with ${flag}`,
      );
    }
  }
  try {
    nodePodCIDR(o.clusterCIDR);
  } catch (err) {
    throw new CliError((err as Error).message, 'for example --cluster-cidr 127.244.0.0/16');
  }
  if (secure) {
    // TLS, a token per component, least-privilege ABAC: created at first start, reused after.
    o.credentials = await ensureClusterCredentials(o.dataDir.root, {
      apiserverIPs: [serviceIP(o, 1), o.host],
      apiserverDNSNames: [],
      identities: componentIdentities(),
    });
  }
  if (detach) return upDetached(o, argv);
  await upForeground(o, demo);
}

/** Re-runs `knet up` in the background and returns once the cluster is ready. */
async function upDetached(o: ClusterOptions, argv: string[]): Promise<void> {
  const logFile = join(o.dataDir.logs, 'knet.log');
  const out = openSync(logFile, 'a');
  const args = argv.filter((a) => a !== '--detach' && a !== '-d');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  child.unref();
  for (;;) {
    if (exited) {
      throw new CliError(`knet up exited (${exited}) before the cluster was ready`, `see ${logFile}`);
    }
    const state = readState(o.dataDir);
    if (state && state.pid === child.pid && state.ready) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  printSummary(o);
}

async function upForeground(o: ClusterOptions, demo: boolean): Promise<void> {
  writePid(o.dataDir);
  const supervisor = new Supervisor({ logDir: o.dataDir.logs });
  let ready = false;
  const save = () =>
    writeState(o.dataDir, {
      pid: process.pid,
      ready,
      apiserver: apiserverURL(o),
      kubeconfig: o.dataDir.kubeconfig,
      components: supervisor.states(),
    });
  for (const ev of ['start', 'ready', 'exit', 'unready']) supervisor.on(ev, save);
  supervisor.on('exit', (name: string, why: string, backoffMs: number) =>
    log({ msg: 'component exited; restarting', component: name, reason: why, backoffMs }),
  );
  supervisor.on('unready', (name: string, why: string) => log({ msg: 'component not ready after restart', component: name, reason: why }));

  let stopping: Promise<void> | undefined;
  let runningDemo: Demo | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log({ msg: 'stopping', signal });
      await runningDemo?.stop();
      await supervisor.stop();
      ready = false;
      save();
      releasePid(o.dataDir);
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));

  try {
    await supervisor.start(controlPlaneComponents(o));
    // The node components only need the API: they start while the Node and kube-dns are written.
    writeKubeconfigs(o);
    await Promise.all([bootstrapCluster(o), supervisor.start(nodeComponents(o), { parallel: true })]);
  } catch (err) {
    await stop('start failed');
    throw new CliError((err as Error).message, logHint(o.dataDir, err as Error));
  }
  ready = true;
  save();
  printSummary(o);
  if (demo) {
    try {
      runningDemo = await startDemo(o, log);
    } catch (err) {
      log({ msg: 'the demo could not start; the cluster runs on', err: (err as Error).message });
    }
  }
}

function printSummary(o: ClusterOptions): void {
  process.stdout.write(
    [
      `knet is up (data dir ${o.dataDir.root})`,
      `  apiserver   ${apiserverURL(o)}`,
      `  ipam        ${o.host}:${o.ipamPort}`,
      `  dns         ${o.host}:${o.dnsPort} (kube-dns Service ${serviceIP(o, 10)}:53)`,
      `  services    ${o.serviceClusterIPRange}`,
      `  node        ${o.nodeName} (${o.nodeAddress}; pods ${nodePodCIDR(o.clusterCIDR)}, NodePorts ${o.nodePortRange})`,
      `  kubeconfig  ${o.dataDir.kubeconfig}`,
      '',
      `  export KUBECONFIG=${o.dataDir.kubeconfig}`,
      '  kubectl get svc -A',
      '',
    ].join('\n'),
  );
}

/** The last lines of the failing component's log, so the user sees why without opening it. */
function logHint(dir: DataDir, err: Error): string {
  const m = /see (\S+\.log)/.exec(err.message);
  if (!m) return `see the logs in ${dir.logs}`;
  try {
    const lines = readFileSync(m[1], 'utf8').trimEnd().split('\n').slice(-10);
    return `last lines of ${m[1]}:\n${lines.join('\n')}`;
  } catch {
    return `see ${m[1]}`;
  }
}

function log(fields: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'knet', ...fields }) + '\n');
}
