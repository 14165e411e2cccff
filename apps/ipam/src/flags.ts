// Flag parsing for the ipam app (names as kube-apiserver spells them where it has them).
import { Command, InvalidArgumentError, Option } from 'commander';
import { goDuration } from '@knet/component';

export interface IpamFlags {
  listen: string;
  dataDir: string;
  serviceClusterIPRange: string[];
  nodePortRange: string;
  loadBalancerIPRange: string[];
  apiserver: string;
  token?: string;
  /** File holding the bearer token (kept off the command line, which `ps` shows). */
  tokenFile?: string;
  caFile?: string;
  /** gRPC over mTLS: serving certificate + key, and the CA client certificates must be signed by. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  /** Client certificate CNs allowed to call (empty: any the client CA signed). */
  allowedClientNames: string[];
  /** 0 disables the repair loop. */
  repairIntervalMs: number;
  /** host:port for GET /metrics; '' for none. */
  metricsListen: string;
}

/** '60s', '500ms', '2m', '1h', or '0' (off), as Go durations are written. */
export function parseDuration(s: string): number {
  const ms = goDuration(s);
  if (ms === null) throw new InvalidArgumentError('must be a duration such as 60s, 500ms or 2m (0 turns repair off).');
  return ms;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export function parseFlags(argv: string[]): IpamFlags {
  const program = new Command('ipam')
    .description('knet ipam: allocates ClusterIPs, NodePorts and LoadBalancer IPs over gRPC (knet.ipam.v1)')
    .option('--listen <host:port>', 'gRPC listen address', '127.0.0.1:9091')
    .option('--data-dir <dir>', 'directory of the allocation database', '.knet/ipam')
    .option('--service-cluster-ip-range <cidrs>', 'ClusterIP range(s), comma-separated: one IPv4 and/or one IPv6 CIDR', '127.96.0.0/12')
    .option('--node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--load-balancer-ip-range <cidrs>', 'LoadBalancer IP pool(s), comma-separated ("" for none)', '127.200.0.0/16')
    .option('--apiserver <url>', 'Kubernetes API server the repair loop reads Services from', 'http://127.0.0.1:6443')
    .option('--token <token>', 'bearer token for the API server')
    .option('--token-file <file>', 'file holding the bearer token for the API server')
    .option('--ca-file <file>', 'CA bundle (PEM) to verify an https API server')
    .option('--tls-cert-file <file>', 'serve gRPC over TLS with this certificate (PEM); needs --tls-private-key-file and --client-ca-file')
    .option('--tls-private-key-file <file>', 'the private key of --tls-cert-file (PEM)')
    .option('--client-ca-file <file>', 'accept only clients presenting a certificate this CA signed (the apiserver\'s)')
    .option('--allowed-client-names <cns>', 'comma-separated client certificate CNs allowed to call, e.g. kube-apiserver (default: any the CA signed)', '')
    .addOption(
      new Option('--repair-interval <duration>', 'how often allocations are reconciled with Services (0: never)')
        .argParser(parseDuration)
        .default(60_000, '60s'),
    )
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics on GET /metrics here ("" for none)', '')
    .showHelpAfterError()
    .exitOverride();
  program.parse(argv, { from: 'node' });
  const o = program.opts<{
    listen: string;
    dataDir: string;
    serviceClusterIpRange: string;
    nodePortRange: string;
    loadBalancerIpRange: string;
    apiserver: string;
    token?: string;
    tokenFile?: string;
    caFile?: string;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    clientCaFile?: string;
    allowedClientNames: string;
    repairInterval: number;
    metricsListen: string;
  }>();
  const tlsGiven = [o.tlsCertFile, o.tlsPrivateKeyFile, o.clientCaFile].filter(Boolean).length;
  if (tlsGiven !== 0 && tlsGiven !== 3) {
    program.error('error: --tls-cert-file, --tls-private-key-file and --client-ca-file go together (ipam accepts only clients with a certificate from the cluster CA)', { exitCode: 2 });
  }
  if (o.allowedClientNames !== '' && tlsGiven === 0) program.error('error: --allowed-client-names needs the TLS flags (--tls-cert-file, --tls-private-key-file, --client-ca-file)', { exitCode: 2 });
  if (o.token && o.tokenFile) program.error('error: pass --token or --token-file, not both', { exitCode: 2 });
  return {
    listen: o.listen,
    dataDir: o.dataDir,
    serviceClusterIPRange: list(o.serviceClusterIpRange),
    nodePortRange: o.nodePortRange,
    loadBalancerIPRange: list(o.loadBalancerIpRange),
    apiserver: o.apiserver,
    ...(o.token ? { token: o.token } : {}),
    ...(o.tokenFile ? { tokenFile: o.tokenFile } : {}),
    ...(o.caFile ? { caFile: o.caFile } : {}),
    ...(o.tlsCertFile ? { tlsCertFile: o.tlsCertFile } : {}),
    ...(o.tlsPrivateKeyFile ? { tlsPrivateKeyFile: o.tlsPrivateKeyFile } : {}),
    ...(o.clientCaFile ? { clientCaFile: o.clientCaFile } : {}),
    allowedClientNames: list(o.allowedClientNames),
    repairIntervalMs: o.repairInterval,
    metricsListen: o.metricsListen,
  };
}
