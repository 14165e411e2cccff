// Flag parsing, with kube-proxy's flag names where it has them.
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { goDuration } from '@knet/component';
import { parseCidr } from './addresses.js';

export interface ProxyFlags {
  kubeconfig?: string;
  master?: string;
  hostnameOverride: string;
  nodePortAddresses: string[];
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  /** host:port, '' disables. */
  healthzBindAddress: string;
  metricsBindAddress: string;
  vipInterface?: string;
  udpIdleTimeoutMs: number;
  drainPeriodMs: number;
}

/** '30s', '500ms', '2m', '1h', '1h30m' or '0', as Go durations are written. */
export function parseDuration(s: string): number {
  if (s.trim() === '') throw new InvalidArgumentError('a duration is required, such as 30s.');
  const ms = goDuration(s);
  if (ms === null) throw new InvalidArgumentError(`${JSON.stringify(s)} is not a duration such as 30s, 500ms or 1m.`);
  return ms;
}

function bindAddress(s: string): string {
  if (s === '') return s;
  const colon = s.lastIndexOf(':');
  const port = Number(s.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${JSON.stringify(s)} must be host:port (port 0 picks a free one; "" turns it off).`);
  }
  return s;
}

function addressList(s: string): string[] {
  const list = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const x of list) {
    if (x === 'primary') continue;
    try {
      parseCidr(x);
    } catch (err) {
      throw new InvalidArgumentError(`${(err as Error).message}; expected CIDRs or IPs, comma-separated, or "primary".`);
    }
  }
  return list;
}

/** The machine's hostname, lower-cased, as kube-proxy defaults the node name. */
export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

export function parseFlags(argv: string[], writeErr: (s: string) => void = (s) => process.stderr.write(s)): ProxyFlags {
  const program = new Command('proxy')
    .description('knet proxy: the node proxy (kube-proxy equivalent) on a userspace data plane')
    .option('--kubeconfig <path>', 'kubeconfig of the API server (default: $KUBECONFIG or ~/.kube/config, unless --master is given)')
    .option('--master <url>', 'API server URL; overrides the kubeconfig server (no credentials)')
    .option('--hostname-override <name>', 'the name of this Node', defaultNodeName())
    .addOption(
      new Option('--nodeport-addresses <list>', 'CIDRs or IPs NodePorts listen on, comma-separated; "primary" or empty: the Node\'s InternalIPs')
        .argParser(addressList)
        .default([], '"" (the Node\'s InternalIPs)'),
    )
    // kube-proxy defaults to 1s; locally people want a Service usable the moment it exists, so 0.
    .addOption(new Option('--min-sync-period <duration>', 'least time between syncs (0: sync right after a change)').argParser(parseDuration).default(0, '0'))
    .addOption(new Option('--sync-period <duration>', 'most time between syncs').argParser(parseDuration).default(30_000, '30s'))
    .addOption(new Option('--healthz-bind-address <host:port>', 'serve /healthz and /livez here ("" off)').argParser(bindAddress).default('127.0.0.1:10256'))
    .addOption(new Option('--metrics-bind-address <host:port>', 'serve /metrics here ("" off)').argParser(bindAddress).default('127.0.0.1:10249'))
    .option('--vip-interface <name>', 'add each VIP to this (dummy) interface with `ip addr`, as IPVS mode does with kube-ipvs0; needs CAP_NET_ADMIN')
    .addOption(new Option('--udp-idle-timeout <duration>', 'a UDP flow with no traffic for this long is forgotten').argParser(parseDuration).default(30_000, '30s'))
    .addOption(new Option('--drain-period <duration>', 'connections to a removed endpoint are closed after this').argParser(parseDuration).default(30_000, '30s'))
    .showHelpAfterError()
    .configureOutput({ writeErr })
    .exitOverride();
  program.parse(argv, { from: 'node' });
  const o = program.opts<{
    kubeconfig?: string;
    master?: string;
    hostnameOverride: string;
    nodeportAddresses: string[];
    minSyncPeriod: number;
    syncPeriod: number;
    healthzBindAddress: string;
    metricsBindAddress: string;
    vipInterface?: string;
    udpIdleTimeout: number;
    drainPeriod: number;
  }>();
  if (o.syncPeriod <= 0) throw new InvalidArgumentError('--sync-period must be greater than 0');
  if (o.minSyncPeriod > o.syncPeriod) throw new InvalidArgumentError('--min-sync-period must not exceed --sync-period');
  if (o.udpIdleTimeout <= 0) throw new InvalidArgumentError('--udp-idle-timeout must be greater than 0');
  return {
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.master ? { master: o.master } : {}),
    hostnameOverride: o.hostnameOverride.trim().toLowerCase() || defaultNodeName(),
    nodePortAddresses: o.nodeportAddresses,
    minSyncPeriodMs: o.minSyncPeriod,
    syncPeriodMs: o.syncPeriod,
    healthzBindAddress: o.healthzBindAddress,
    metricsBindAddress: o.metricsBindAddress,
    ...(o.vipInterface ? { vipInterface: o.vipInterface } : {}),
    udpIdleTimeoutMs: o.udpIdleTimeout,
    drainPeriodMs: o.drainPeriod,
  };
}
