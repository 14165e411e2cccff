// Flag parsing for the dns app (CoreDNS' kubernetes/forward/prometheus settings, as flags).
import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseUpstream, upstreamsFromResolvConf, type UdpPath } from '@knet/dns';

export interface HostPort {
  host: string;
  port: number;
}

export interface DnsFlags {
  kubeconfig?: string;
  listen: HostPort;
  clusterDomain: string;
  ttl: number;
  /** Upstreams as given ("ip:port" strings); null: read /etc/resolv.conf at start. */
  upstreams: string[] | null;
  forward: boolean;
  forwardAllow: string[];
  /** null: no metrics/health server. */
  metricsListen: HostPort | null;
  nameserverIPs: string[];
  logLevel: string;
  /** Which UDP implementation serves (the C fast path or node:dgram). */
  udpPath: UdpPath;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** "127.0.0.1:10053", "[::1]:53", port 0 allowed. */
export function parseHostPort(s: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s.trim());
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || !isIP(host) || !(port >= 0 && port <= 65535)) {
    throw new InvalidArgumentError(`${JSON.stringify(s)} is not an address: want ip:port such as 127.0.0.1:10053 or [::1]:10053.`);
  }
  return { host, port };
}

export function formatHostPort(a: HostPort): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function clusterDomain(s: string): string {
  const d = s.trim().replace(/\.$/, '').toLowerCase();
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  if (d === '' || d.length > 253 || !d.split('.').every((l) => label.test(l))) {
    throw new InvalidArgumentError(`${JSON.stringify(s)} is not a DNS domain such as cluster.local.`);
  }
  return d;
}

function ttl(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || n > 3600) throw new InvalidArgumentError('must be whole seconds from 0 to 3600 (CoreDNS: 0..3600, default 5).');
  return n;
}

function upstreams(s: string): string[] {
  const out = list(s);
  if (out.length === 0) throw new InvalidArgumentError('give at least one ip[:port].');
  for (const u of out) {
    try {
      parseUpstream(u);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  }
  return out;
}

function cidrs(s: string): string[] {
  const out = list(s);
  for (const c of out) {
    const [addr = '', prefix, ...rest] = c.split('/');
    const max = isIP(addr) === 4 ? 32 : 128;
    if (!isIP(addr) || rest.length > 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))) {
      throw new InvalidArgumentError(`${JSON.stringify(c)} is not a CIDR such as 127.0.0.0/8 or ::1/128.`);
    }
  }
  return out;
}

function ips(s: string): string[] {
  const out = list(s);
  for (const ip of out) if (!isIP(ip)) throw new InvalidArgumentError(`${JSON.stringify(ip)} is not an IP address.`);
  return out;
}

/** writeErr receives commander's messages and help (stderr by default). */
export function parseFlags(argv: string[], writeErr: (s: string) => void = (s) => process.stderr.write(s)): DnsFlags {
  const program = new Command('dns')
    .description('knet dns: the cluster DNS server (the cluster.local zone from Services, EndpointSlices and Pods; CoreDNS-compatible)')
    .option('--kubeconfig <path>', 'kubeconfig of the API server (default $KUBECONFIG or ~/.kube/config)')
    .addOption(new Option('--listen <ip:port>', 'UDP and TCP address to serve DNS on (port 0: any free port)').argParser(parseHostPort).default(parseHostPort('127.0.0.1:10053'), '127.0.0.1:10053'))
    .addOption(new Option('--cluster-domain <domain>', 'the cluster zone').argParser(clusterDomain).default('cluster.local'))
    .addOption(new Option('--ttl <seconds>', 'TTL of the zone records and negative answers').argParser(ttl).default(5))
    .addOption(new Option('--upstream <ip[:port],...>', 'resolvers for names outside the zone (default: the nameservers of /etc/resolv.conf)').argParser(upstreams))
    .option('--no-forward', 'answer REFUSED for names outside the zone instead of forwarding them')
    .addOption(new Option('--forward-allow <cidrs>', 'clients that may have names outside the zone forwarded').argParser(cidrs).default(['127.0.0.0/8', '::1/128'], '127.0.0.0/8,::1/128'))
    .addOption(
      new Option('--metrics-listen <ip:port>', 'address of /metrics, /health and /ready ("" for none; port 0: any free port)')
        .argParser((s: string) => (s.trim() === '' ? null : parseHostPort(s)))
        .default(parseHostPort('127.0.0.1:9153'), '127.0.0.1:9153'),
    )
    .addOption(new Option('--nameserver-ip <ips>', 'the kube-dns ClusterIP(s): ns.dns.<zone> and the NS glue').argParser(ips).default(['127.96.0.10'], '127.96.0.10'))
    .option('--log-level <level>', 'pino log level', 'info')
    .addOption(
      new Option('--udp-path <path>', 'UDP implementation: native (C fast path, Linux), js (node:dgram) or auto (native when its addon loads)')
        .choices(['auto', 'native', 'js'])
        .default('auto')
        .env('KNET_DNS_UDP_PATH'),
    )
    .showHelpAfterError()
    .configureOutput({ writeErr })
    .exitOverride();
  program.parse(argv, { from: 'node' });
  const o = program.opts<{
    kubeconfig?: string;
    listen: HostPort;
    clusterDomain: string;
    ttl: number;
    upstream?: string[];
    forward: boolean;
    forwardAllow: string[];
    metricsListen: HostPort | null | '';
    nameserverIp: string[];
    logLevel: string;
    udpPath: UdpPath;
  }>();
  if (o.upstream && !o.forward) throw new InvalidArgumentError('--upstream and --no-forward contradict each other: give one.');
  return {
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    listen: o.listen,
    clusterDomain: o.clusterDomain,
    ttl: o.ttl,
    upstreams: o.upstream ?? null,
    forward: o.forward,
    forwardAllow: o.forwardAllow,
    // commander hands an empty value through without calling the parser.
    metricsListen: o.metricsListen === '' ? null : o.metricsListen,
    nameserverIPs: o.nameserverIp,
    logLevel: o.logLevel,
    udpPath: o.udpPath,
  };
}

/**
 * The upstreams to forward to: the flag's, else resolv.conf's; never ourselves
 * (CoreDNS' loop plugin exists because a resolver forwarding to itself melts down).
 */
export function resolveUpstreams(flags: Pick<DnsFlags, 'upstreams' | 'listen'>, resolvConf = '/etc/resolv.conf'): string[] {
  const given = flags.upstreams ?? upstreamsFromResolvConf(resolvConf);
  const self = (u: string): boolean => {
    const p = parseUpstream(u);
    return p.port === flags.listen.port && (p.host === flags.listen.host || (flags.listen.host === '0.0.0.0' && p.family === 4) || flags.listen.host === '::');
  };
  const out = given.filter((u) => !self(u));
  if (out.length === 0) {
    throw new InvalidArgumentError(
      given.length === 0
        ? `no nameserver in ${resolvConf}: give --upstream ip[:port] or --no-forward.`
        : `every upstream (${given.join(', ')}) is this server itself: give --upstream ip[:port] or --no-forward.`,
    );
  }
  return out;
}
