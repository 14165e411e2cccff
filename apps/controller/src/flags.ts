// Flag parsing for the controller (kube-controller-manager's names where it has them).
import { Command, InvalidArgumentError, Option } from 'commander';
import { goDuration } from '@knet/component';

export interface ControllerFlags {
  kubeconfig?: string;
  server?: string;
  token?: string;
  ipam?: string;
  /** mTLS towards ipam: CA, client certificate and key files, given together. */
  ipamTls?: { caFile: string; certFile: string; keyFile: string };
  concurrentSyncs: number;
  maxEndpointsPerSlice: number;
  batchPeriodMs: number;
  healthzPort: number;
  healthzBindAddress: string;
  logLevel: string;
}

function intIn(min: number, max: number, what: string) {
  return (s: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be an integer from ${min} to ${max}.`);
    return n;
  };
}

/** '1s', '500ms', '0': a Go-style duration in milliseconds. */
export function parseDuration(s: string): number {
  const ms = goDuration(s);
  if (ms === null) throw new InvalidArgumentError('must be a duration such as 0, 100ms or 1s.');
  return ms;
}

export function parseFlags(argv: string[]): ControllerFlags {
  const program = new Command('controller')
    .description('knet controller: Endpoints, EndpointSlices, EndpointSlice mirroring and LoadBalancer IPs')
    .option('--kubeconfig <path>', 'kubeconfig of the API server (default $KUBECONFIG or ~/.kube/config unless --server is given)')
    .option('--server <url>', 'API server URL, e.g. http://127.0.0.1:6443 (instead of a kubeconfig)')
    .option('--token <token>', 'bearer token, with --server')
    .option('--ipam <host:port>', 'ipam gRPC address for LoadBalancer IPs (without it LoadBalancers get none)')
    .option('--ipam-ca-file <file>', 'CA that signed the ipam server certificate (mTLS towards ipam)')
    .option('--ipam-client-cert-file <file>', 'client certificate presented to ipam')
    .option('--ipam-client-key-file <file>', 'its private key')
    // kube-controller-manager's default is 5; a sync here mostly waits for the apiserver's durable commit,
    // which group-commits concurrent writes, so more syncs in flight cost little and keep the queue short.
    // 64: under 200 Pod changes/s a commit stalled for 300 ms leaves 60 syncs waiting; with 32 workers half
    // of them queued behind it for one more commit (bench:controller's breakdown: 300-500 ms in the queue).
    // Two writes per sync stay under the apiserver's 200 mutating requests in flight.
    .addOption(new Option('--concurrent-syncs <n>', 'Services synced in parallel').argParser(intIn(1, 1000, '--concurrent-syncs')).default(64))
    .addOption(new Option('--max-endpoints-per-slice <n>', 'endpoints per EndpointSlice').argParser(intIn(1, 1000, '--max-endpoints-per-slice')).default(100))
    .addOption(new Option('--endpoint-updates-batch-period <duration>', 'delay Pod-triggered syncs to batch bursts').argParser(parseDuration).default(0, '0'))
    .addOption(new Option('--healthz-port <port>', 'port of /healthz and /metrics (0: off)').argParser(intIn(0, 65535, '--healthz-port')).default(10257))
    .option('--healthz-bind-address <ip>', 'address of /healthz and /metrics', '127.0.0.1')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .showHelpAfterError()
    .exitOverride();
  program.parse(argv, { from: 'node' });
  const o = program.opts<{
    kubeconfig?: string;
    server?: string;
    token?: string;
    ipam?: string;
    ipamCaFile?: string;
    ipamClientCertFile?: string;
    ipamClientKeyFile?: string;
    concurrentSyncs: number;
    maxEndpointsPerSlice: number;
    endpointUpdatesBatchPeriod: number;
    healthzPort: number;
    healthzBindAddress: string;
    logLevel: string;
  }>();
  if (o.kubeconfig && o.server) program.error('error: give --kubeconfig or --server, not both');
  const tls = [o.ipamCaFile, o.ipamClientCertFile, o.ipamClientKeyFile];
  if (tls.some(Boolean) && !tls.every(Boolean)) program.error('error: --ipam-ca-file, --ipam-client-cert-file and --ipam-client-key-file go together');
  return {
    kubeconfig: o.kubeconfig,
    server: o.server,
    token: o.token,
    ipam: o.ipam,
    ...(o.ipamCaFile ? { ipamTls: { caFile: o.ipamCaFile, certFile: o.ipamClientCertFile!, keyFile: o.ipamClientKeyFile! } } : {}),
    concurrentSyncs: o.concurrentSyncs,
    maxEndpointsPerSlice: o.maxEndpointsPerSlice,
    batchPeriodMs: o.endpointUpdatesBatchPeriod,
    healthzPort: o.healthzPort,
    healthzBindAddress: o.healthzBindAddress,
    logLevel: o.logLevel,
  };
}
