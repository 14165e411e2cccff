#!/usr/bin/env node
// knet apiserver: flags, process lifecycle and wiring of store + ipam into the HTTP server.
import { isIP } from 'node:net';
import { Command } from 'commander';
import pino from 'pino';
import { Store } from '@knet/store';
import { IpamClient } from '@knet/ipam';
import { parseCIDRList, parseDuration, parseHostPort } from './flags.js';
import { ApiMetrics } from './metrics.js';
import { ApiServer } from './server.js';

interface Flags {
  listen: string;
  dataDir: string;
  ipam: string;
  serviceClusterIpRange?: string;
  advertiseAddress?: string;
  logLevel: string;
  watchBookmarkInterval: string;
  watchWindow: string;
  ipamTimeout: string;
  watchBufferEvents: string;
  reconcileInterval: string;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('knet-apiserver')
    .description('Kubernetes-compatible API server for Services, Endpoints, EndpointSlices, Pods, Nodes and Namespaces')
    .option('--listen <host:port>', 'address to serve the Kubernetes API on (port 0: any free port)', '127.0.0.1:6443')
    .option('--data-dir <dir>', 'directory of the object store', './data/apiserver')
    .option('--ipam <host:port>', 'address of the ipam gRPC server', '127.0.0.1:9091')
    .option('--service-cluster-ip-range <cidrs>', 'service CIDR(s), IPv4 and/or IPv6 comma-separated (default: ask ipam)')
    .option('--advertise-address <ip>', 'the address of this apiserver in the kubernetes Endpoints (default: the listen host)')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--watch-bookmark-interval <duration>', 'how often watches that allow bookmarks get one', '60s')
    .option('--ipam-timeout <duration>', 'deadline of one ipam call (an unreachable ipam fails at once)', '15s')
    .option('--watch-buffer-events <n>', 'events buffered for a watcher that cannot keep up before it is disconnected', '10000')
    .option('--reconcile-interval <duration>', 'how often the system namespaces and the kubernetes Service are re-ensured', '10s')
    .option('--watch-window <events>', 'events kept for watch resumption; older resourceVersions get 410 Gone', '10000')
    .showHelpAfterError();
  program.parse(process.argv);
  const flags = program.opts<Flags>();
  if (!(flags.logLevel in pino.levels.values) && flags.logLevel !== 'silent') {
    process.stderr.write(`error: --log-level must be one of ${Object.keys(pino.levels.values).join(', ')}, silent\n`);
    process.exitCode = 2;
    return;
  }
  const log = pino({ level: flags.logLevel, base: { component: 'apiserver' } }, pino.destination({ sync: true }));

  let listen, cidrs, bookmarkMs, watchWindow, ipamTimeoutMs, watchBuffer, reconcileMs;
  try {
    listen = parseHostPort(flags.listen);
    parseHostPort(flags.ipam);
    cidrs = flags.serviceClusterIpRange ? parseCIDRList(flags.serviceClusterIpRange) : undefined;
    if (flags.advertiseAddress !== undefined && !isIP(flags.advertiseAddress)) {
      throw new Error(`invalid --advertise-address ${JSON.stringify(flags.advertiseAddress)}: must be an IP address`);
    }
    bookmarkMs = parseDuration(flags.watchBookmarkInterval);
    ipamTimeoutMs = parseDuration(flags.ipamTimeout);
    reconcileMs = parseDuration(flags.reconcileInterval);
    watchBuffer = Number(flags.watchBufferEvents);
    if (!Number.isInteger(watchBuffer) || watchBuffer < 1) throw new Error(`--watch-buffer-events must be a positive integer, got ${flags.watchBufferEvents}`);
    watchWindow = Number(flags.watchWindow);
    if (!Number.isInteger(watchWindow) || watchWindow < 1) throw new Error(`--watch-window must be a positive integer, got ${flags.watchWindow}`);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
    return;
  }
  const advertise = flags.advertiseAddress ?? (listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host);

  const store = await Store.open(flags.dataDir, { watchWindow });
  const ipam = new IpamClient(flags.ipam, { deadlineMs: ipamTimeoutMs });
  const server = new ApiServer({
    store, ipam, log, advertiseAddress: advertise, bookmarkIntervalMs: bookmarkMs, maxWatchBufferedEvents: watchBuffer,
    reconcileIntervalMs: reconcileMs,
    metrics: new ApiMetrics(true),
    ...(cidrs ? { serviceCIDRs: cidrs } : {}),
  });
  let url: string;
  try {
    ({ url } = await server.listen(listen.host, listen.port));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? `${flags.listen} is in use: stop the other process or pass --listen with another port (0 picks a free one)`
      : e.code === 'EACCES' ? `binding ${flags.listen} needs privileges: use a port >= 1024 or set net.ipv4.ip_unprivileged_port_start=0`
      : e.message;
    log.error({ err: e.message }, `cannot listen: ${hint}`);
    await store.close();
    ipam.close();
    process.exitCode = 1;
    return;
  }
  log.info({ url }, 'ready');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    void (async () => {
      await server.close();
      ipam.close();
      await store.close();
      log.info('stopped');
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`apiserver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
