// The knet CLI: flags and commands; each command lives in its own module, loaded when it runs
// (a `knet run` pod or `knet status` does not load what `knet up` needs, and the reverse).
import type { FsyncMode } from '@knet/store';
import { Command, InvalidArgumentError } from 'commander';
import { dataDir } from './data-dir.js';
import { defaultClusterOptions } from './cluster-options.js';
import { CliError } from './cli-error.js';
import { parseLabel, parsePort, parseReadiness } from './pod-spec.js';
import { localNodeName } from './node-name.js';
import { readFileSync } from 'node:fs';

/** A KubeClient for the cluster a CLI command talks to (--kubeconfig, the data dir's, $KUBECONFIG). */
async function kubeClient(dataDirPath: string, kubeconfig?: string) {
  const [{ KubeClient }, { clusterConfig }] = await Promise.all([import('@knet/client'), import('./cluster-config.js')]);
  return new KubeClient(await clusterConfig(dataDir(dataDirPath), kubeconfig));
}

type KubeClientOf = Awaited<ReturnType<typeof kubeClient>>;

/** Runs `fn` with a client for the command's cluster and closes the client afterwards. */
async function withKubeClient<T>(opts: { dataDir: string; kubeconfig?: string }, fn: (client: KubeClientOf) => Promise<T>): Promise<T> {
  const client = await kubeClient(opts.dataDir, opts.kubeconfig);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

// Checked here, not with @knet/store's fsyncModes: importing the store would load LevelDB into every CLI command.
function fsyncMode(value: string): FsyncMode {
  if (value !== 'interval' && value !== 'always') throw new InvalidArgumentError('must be interval or always.');
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number between 1 and 65535.');
  return n;
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('knet')
  .description('A Kubernetes-compatible service-networking stack, on your machine')
  .version(version, '-v, --version', 'print the version of knet')
  .showHelpAfterError();

const dataDirOption = ['--data-dir <dir>', 'where the cluster keeps its state, logs and kubeconfig', '.knet'] as const;

program
  .command('up')
  .description('run a local cluster (ipam, apiserver, controller, dns, proxy) and write its kubeconfig')
  .option(...dataDirOption)
  .option('--api-port <port>', 'apiserver port', port, defaultClusterOptions.apiPort)
  .option('--ipam-port <port>', 'ipam gRPC port', port, defaultClusterOptions.ipamPort)
  .option('--dns-port <port>', 'cluster DNS port (UDP and TCP)', port, defaultClusterOptions.dnsPort)
  .option('--dns-metrics-port <port>', 'cluster DNS /metrics, /health, /ready', port, defaultClusterOptions.dnsMetricsPort)
  .option('--controller-healthz-port <port>', 'controller /healthz and /metrics', port, defaultClusterOptions.controllerHealthzPort)
  .option('--proxy-healthz-port <port>', 'proxy /healthz', port, defaultClusterOptions.proxyHealthzPort)
  .option('--proxy-metrics-port <port>', 'proxy /metrics', port, defaultClusterOptions.proxyMetricsPort)
  .option('--cluster-domain <domain>', 'DNS zone of the cluster', defaultClusterOptions.clusterDomain)
  .option('--service-cluster-ip-range <cidrs>', 'ClusterIP range(s), comma-separated (one IPv4, one IPv6)', defaultClusterOptions.serviceClusterIPRange)
  .option('--node-port-range <range>', 'NodePort range', defaultClusterOptions.nodePortRange)
  .option('--load-balancer-ip-range <cidr>', 'LoadBalancer IP pool', defaultClusterOptions.loadBalancerIPRange)
  .option('--ipam-repair-interval <duration>', 'how often ipam reconciles allocations with Services', defaultClusterOptions.ipamRepairInterval)
  .option('--fsync <mode>', 'when the apiserver acknowledges a write: interval (once the OS has it; on disk within 1 s) or always (once it is on disk)', fsyncMode)
  .option('--cluster-cidr <cidr>', 'pod range; this node takes its first /24', defaultClusterOptions.clusterCIDR)
  .option('--node-name <name>', 'name of this machine as a Node', localNodeName())
  .option('--node-address <ip>', "this node's InternalIP, where NodePorts listen", defaultClusterOptions.nodeAddress)
  .option('--demo', 'also run the demo: a Service with two pods behind it (npm start does)')
  .option('--no-demo', 'no demo')
  .option('--insecure-plain-http', 'no TLS and no authentication (loopback only): for debugging and benchmarks')
  .option('-d, --detach', 'return once the cluster is ready and leave it running')
  .action(async (opts) => {
    const { up } = await import('./up.js');
    await up(
      {
        dataDir: dataDir(opts.dataDir),
        host: defaultClusterOptions.host,
        apiPort: opts.apiPort,
        ipamPort: opts.ipamPort,
        dnsPort: opts.dnsPort,
        dnsMetricsPort: opts.dnsMetricsPort,
        controllerHealthzPort: opts.controllerHealthzPort,
        proxyHealthzPort: opts.proxyHealthzPort,
        proxyMetricsPort: opts.proxyMetricsPort,
        clusterDomain: opts.clusterDomain,
        serviceClusterIPRange: opts.serviceClusterIpRange,
        nodePortRange: opts.nodePortRange,
        loadBalancerIPRange: opts.loadBalancerIpRange,
        ipamRepairInterval: opts.ipamRepairInterval,
        ...(opts.fsync ? { fsync: opts.fsync } : {}),
        clusterCIDR: opts.clusterCidr,
        nodeName: opts.nodeName,
        nodeAddress: opts.nodeAddress,
      },
      Boolean(opts.detach),
      Boolean(opts.demo),
      !opts.insecurePlainHttp,
      process.argv.slice(1),
    );
  });

program
  .command('down')
  .description('stop the cluster running on a data dir')
  .option(...dataDirOption)
  .action(async (opts) => (await import('./down.js')).down(dataDir(opts.dataDir)));

program
  .command('status')
  .description('show the cluster components; exits non-zero when one is not ready')
  .option(...dataDirOption)
  .action(async (opts) => (await import('./status.js')).status(dataDir(opts.dataDir)));

/** Wraps a flag parser so its message reaches the user through commander's error output. */
function repeatable<T>(parse: (v: string) => T) {
  return (value: string, previous: T[] = []) => {
    try {
      return [...previous, parse(value)];
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function wholeSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of seconds.');
  return n;
}

const kubeconfigOption = ['--kubeconfig <path>', 'kubeconfig to use (default: <data-dir>/kubeconfig, then $KUBECONFIG)'] as const;

program
  .command('run')
  .description('run a process as a Pod on this node (a one-pod kubelet)')
  .argument('<name>', 'the Pod name')
  .argument('<command...>', 'the command and its arguments, after --')
  .option('-n, --namespace <ns>', 'namespace of the Pod', 'default')
  .option('-l, --label <key=value>', 'a label (repeatable)', repeatable(parseLabel), [])
  .option('-p, --port <[name:]port[/proto]>', 'a container port (repeatable); the first is $PORT', repeatable(parsePort), [])
  .option('--readiness <probe>', 'readiness probe: http:PATH, tcp, or exec:COMMAND (default: ready once started)')
  .option('--grace-period <seconds>', 'how long the process gets to stop (from the preStop sleep, else from SIGTERM) before SIGKILL', wholeSeconds, 5)
  .option('--pre-stop-sleep <seconds>', 'on Ctrl-C, keep the process serving this long while the Pod is terminating, then SIGTERM it (a preStop sleep hook: proxies stop sending it new connections first)', wholeSeconds, 0)
  .option('--node <name>', 'the Node to run on (default: the registered one)')
  .option('--host-network', "use the node's address as the pod IP (a hostNetwork Pod)")
  .option(...dataDirOption)
  .option(...kubeconfigOption)
  .action(async (name: string, command: string[], opts) => {
    let readiness;
    try {
      readiness = parseReadiness(opts.readiness);
    } catch (err) {
      throw new CliError((err as Error).message, 'see `knet run --help`');
    }
    // As Kubernetes validates a preStop sleep: the grace period counts from its start.
    if (opts.preStopSleep > opts.gracePeriod) {
      throw new CliError(`--pre-stop-sleep ${opts.preStopSleep} is longer than --grace-period ${opts.gracePeriod}, which counts from its start`, `give a grace period at least as long, e.g. --grace-period ${opts.preStopSleep + 5}`);
    }
    const dir = dataDir(opts.dataDir);
    const [{ run }, { clusterConfig, podClusterConfig }] = await Promise.all([import('./run.js'), import('./cluster-config.js')]);
    process.exitCode = await run({
      cluster: await podClusterConfig(dir, await clusterConfig(dir, opts.kubeconfig), opts.namespace, name),
      stateDir: dir.root,
      node: opts.node,
      spec: {
        name,
        namespace: opts.namespace,
        labels: Object.fromEntries(opts.label as [string, string][]),
        ports: opts.port,
        readiness,
        command,
        gracePeriodSeconds: opts.gracePeriod,
        preStopSleepSeconds: opts.preStopSleep,
        hostNetwork: Boolean(opts.hostNetwork),
      },
    });
  });

program
  .command('join')
  .description('register this machine as a Node of a cluster (what `knet up` does for its own node)')
  .requiredOption('--node-name <name>', 'the Node name')
  .requiredOption('--address <ip>', "the node's InternalIP")
  .requiredOption('--pod-cidr <cidr>', "the node's pod range, e.g. 127.244.1.0/24")
  .option(...dataDirOption)
  .option(...kubeconfigOption)
  .action(async (opts) => {
    const { registerNode } = await import('./node-registration.js');
    await withKubeClient(opts, (client) => registerNode(client, { name: opts.nodeName, address: opts.address, podCIDR: opts.podCidr }));
    process.stdout.write(`node/${opts.nodeName} registered (${opts.address}, pods ${opts.podCidr})\n`);
  });

program
  .command('dns-service')
  .description('create or update kube-system/kube-dns in front of a DNS server (what `knet up` does for its own)')
  .requiredOption('--cluster-ip <ip>', "the Service's ClusterIP (the range's tenth address)")
  .requiredOption('--address <ip>', 'where the DNS server listens')
  .option('--port <port>', 'its DNS port (UDP and TCP)', port, 53)
  .option('--metrics-port <port>', 'its metrics port', port, 9153)
  .option(...dataDirOption)
  .option(...kubeconfigOption)
  .action(async (opts) => {
    const { ensureKubeDns } = await import('./cluster-bootstrap.js');
    await withKubeClient(opts, (client) => ensureKubeDns(client, { clusterIP: opts.clusterIp, address: opts.address, dnsPort: opts.port, metricsPort: opts.metricsPort }));
    process.stdout.write(`service/kube-dns (${opts.clusterIp}) → ${opts.address}:${opts.port}\n`);
  });

program
  .command('env')
  .description("print the service environment variables a new Pod in the namespace gets")
  .option('-n, --namespace <ns>', 'namespace', 'default')
  .option(...dataDirOption)
  .option(...kubeconfigOption)
  .action(async (opts) => {
    const { serviceEnvironment } = await import('./run.js');
    const env = await withKubeClient(opts, (client) => serviceEnvironment(client, opts.namespace));
    process.stdout.write(Object.keys(env).sort().map((k) => `${k}=${env[k]}\n`).join(''));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`knet: ${err.message}\n${err.fix ? `  ${err.fix.replace(/\n/g, '\n  ')}\n` : ''}`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`knet: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  }
}
