// The dns process (CoreDNS with the kubernetes, forward, prometheus, health and ready plugins, as one program):
// flags, informers feeding the zone, the wire server once synced, /metrics /health /ready, signals.
// The records and the wire protocol live in @knet/dns.
import './heap.js';
import { isIP } from 'node:net';
import { CommanderError, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { KubeClient, loadKubeconfig, type ClusterConfig } from '@knet/client';
import { ClusterZone, createDnsServer, type DnsServer } from '@knet/dns';
import { formatHostPort, parseFlags, resolveUpstreams, type DnsFlags } from './flags.js';
import { startStatusServer, type StatusServer } from './http.js';
import { createDnsMetrics } from './metrics.js';
import { ZoneSync } from './zone-sync.js';

async function main(): Promise<void> {
  let flags: DnsFlags;
  try {
    flags = parseFlags(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the problem (or the help text): usage errors exit 2, --help 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof InvalidArgumentError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const root = pino({ level: flags.logLevel });
  const log = root.child({ component: 'dns' });

  let upstreams: string[] = [];
  let forward = flags.forward;
  if (forward) {
    try {
      upstreams = resolveUpstreams(flags);
    } catch (err) {
      if (flags.upstreams) {
        log.error({ err: (err as Error).message }, 'no upstream resolver to forward to');
        process.exitCode = 2;
        return;
      }
      // A machine without a resolver (resolv.conf lists none) still gets a working cluster zone.
      log.warn({ err: (err as Error).message }, 'forwarding is off: names outside the zone get REFUSED');
      forward = false;
    }
  }
  let cfg: ClusterConfig;
  try {
    cfg = await loadKubeconfig(flags.kubeconfig);
  } catch (err) {
    log.error({ err: (err as Error).message, kubeconfig: flags.kubeconfig }, 'cannot load the kubeconfig; pass --kubeconfig PATH');
    process.exitCode = 1;
    return;
  }

  const zone = new ClusterZone({ clusterDomain: flags.clusterDomain, ttl: flags.ttl, nameservers: flags.nameserverIPs });
  const metrics = createDnsMetrics({ server: `dns://${formatHostPort(flags.listen)}`, family: isIP(flags.listen.host) === 6 ? '2' : '1' }, () => zone.stats());
  const client = new KubeClient(cfg, { userAgent: 'knet-dns' });
  const sync = new ZoneSync({ client, zone, log, informerLog: root.child({ component: 'informer' }), onProgrammed: (s) => metrics.observeProgramming(s) });
  let dns: DnsServer | null = null;
  let status: StatusServer | null = null;

  const abort = new AbortController();
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    abort.abort();
    await dns?.close();
    await sync.stop();
    await status?.close();
    await client.close();
    log.info({}, 'stopped');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  if (flags.metricsListen) {
    try {
      status = await startStatusServer({
        listen: flags.metricsListen,
        registry: metrics.registry,
        beforeScrape: () => dns?.flushQueryTallies(),
        notReady: () => (sync.hasSynced() && dns !== null ? null : `not synced: ${sync.pending().join(', ') || 'dns server starting'}`),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint = code === 'EADDRINUSE' ? 'another process listens there; pick another --metrics-listen ("" for none)' : code === 'EACCES' ? 'ports below 1024 need root or net.ipv4.ip_unprivileged_port_start=0' : '';
      log.error({ err: (err as Error).message, metricsListen: formatHostPort(flags.metricsListen), hint }, 'cannot serve /metrics');
      await stop('startup failure');
      process.exitCode = 1;
      return;
    }
    log.info({ metrics: formatHostPort({ host: flags.metricsListen.host, port: status.port }) }, 'metrics listening');
  }

  // Serve only once the zone holds what the apiserver has: never NXDOMAIN for a name not loaded yet.
  sync.start();
  try {
    await sync.waitForSync(abort.signal);
  } catch (err) {
    if (stopping) return;
    throw err;
  }
  const server = createDnsServer({
    zone,
    udp: flags.listen,
    tcp: flags.listen,
    forward: forward ? { upstreams, allowFrom: flags.forwardAllow } : false,
    onQuery: (info) => metrics.record(info),
    onQueryTally: (tally) => metrics.recordTally(tally),
    udpPath: flags.udpPath,
    log,
  });
  let ports: { udpPort: number; tcpPort: number };
  try {
    ports = await server.listen();
  } catch (err) {
    log.error({ err: (err as Error).message, listen: formatHostPort(flags.listen) }, 'cannot serve DNS; pick another --listen address');
    await stop('startup failure');
    process.exitCode = 1;
    return;
  }
  if (stopping) {
    await server.close();
    return;
  }
  dns = server;
  metrics.setServer(`dns://${formatHostPort({ host: flags.listen.host, port: ports.udpPort })}`);
  log.info(
    {
      address: flags.listen.host,
      udpPort: ports.udpPort,
      tcpPort: ports.tcpPort,
      ...(status ? { metrics: formatHostPort({ host: flags.metricsListen!.host, port: status.port }) } : {}),
      zone: zone.zone,
      forward: forward ? upstreams : false,
      objects: zone.stats(),
      server: cfg.server,
    },
    'ready',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`dns: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
