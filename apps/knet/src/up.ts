// `knet up`: run the local cluster in the foreground (or detached), until Ctrl-C or `knet down`.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodePodCIDR } from './node-name.js';
import { startDemo, type Demo } from './demo.js';
import { Supervisor } from './supervisor.js';
import { controlPlaneComponents, nodeComponents, apiserverURL, serviceIP, type ClusterOptions } from './components.js';
import { inWorker, setupWorker } from './in-worker.js';
import { portable } from './setup-tasks.js';
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
  // TLS, a token per component, least-privilege ABAC (created at first start, reused after); the kubeconfigs.
  const credentials = await inWorker('credentials', { o: portable(o), secure });
  if (credentials) o.credentials = credentials;
  if (detach) return upDetached(o, argv);
  await upForeground(o, demo);
}

/** Re-runs `knet up` in the background and returns once the cluster is ready. */
async function upDetached(o: ClusterOptions, argv: string[]): Promise<void> {
  const logFile = join(o.dataDir.logs, 'knet.log');
  const out = openSync(logFile, 'a');
  const args = argv.filter((a) => a !== '--detach' && a !== '-d');
  // With this process's V8 flags (bin/knet.js): the background supervisor is the same light process.
  const child = spawn(process.execPath, [...process.execArgv, ...args], { detached: true, stdio: ['ignore', out, out] });
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
  let demoStarting: Promise<Demo | undefined> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log({ msg: 'stopping', signal });
      supervisor.holdRestarts();
      await (await demoStarting)?.stop();
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
    // Started together: the apiserver needs ipam only for its own bootstrap (the `kubernetes` Service,
    // retried), and ipam has long been listening by the time the apiserver has loaded.
    const controlPlane = supervisor.start(controlPlaneComponents(o), { parallel: true });
    const bootstrapWorker = setupWorker('bootstrap');
    controlPlane.catch(() => bootstrapWorker.cancel());
    // The node components need the API to answer, not the apiserver's bootstrap to be done: they load
    // while it finishes, and this machine's Node and kube-dns are written once it has.
    await untilServing(o, controlPlane);
    const bootstrapped = controlPlane.then(() => bootstrapWorker.run({ o: portable(o), demo }));
    // The demo pods need their Node and Service only; they get ready while the controller and proxy come up.
    if (demo) {
      demoStarting = bootstrapped.then(({ demoClusterIP, demoError }) => {
        if (demoClusterIP) return startDemo(o, demoClusterIP, log);
        log({ msg: 'the demo could not start; the cluster runs on', err: demoError });
        return undefined;
      }, () => undefined);
    }
    await Promise.all([controlPlane, bootstrapped, supervisor.start(nodeComponents(o), { parallel: true })]);
  } catch (err) {
    await stop('start failed');
    throw new CliError((err as Error).message, logHint(o.dataDir, err as Error));
  }
  ready = true;
  save();
  printSummary(o);
  const running = await demoStarting;
  if (running) process.stdout.write(running.instructions);
}

/** Resolves once the apiserver accepts connections, or as `controlPlane` settles (its failure rejects). */
async function untilServing(o: ClusterOptions, controlPlane: Promise<void>): Promise<void> {
  let settled = false;
  const settle = () => (settled = true);
  controlPlane.then(settle, settle);
  const serving = (async () => {
    while (!settled && !(await tcpReady(o.host, o.apiPort, 200))) await new Promise((r) => setTimeout(r, 20));
  })();
  await Promise.race([controlPlane, serving]);
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
