// The ipam process: flags, the gRPC server, the repair loop, signals. Logic lives in @knet/ipam.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { IpamError, createIpamServer, ipamServerTlsCredentials, startRepairLoop, type RepairLoop } from '@knet/ipam';
import { pino } from 'pino';
import type { Server } from 'node:http';
import { parseFlags, type IpamFlags } from './flags.js';
import { ipamRegistry, serveMetrics } from './metrics.js';

const log = pino({ base: { component: 'ipam' } });

async function main(): Promise<void> {
  let flags: IpamFlags;
  try {
    flags = parseFlags(process.argv);
  } catch (err) {
    // commander has already printed the problem (or the help text).
    process.exitCode = err instanceof CommanderError ? err.exitCode : 2;
    return;
  }

  mkdirSync(flags.dataDir, { recursive: true });
  let ca: Buffer | undefined;
  let token = flags.token;
  let credentials;
  try {
    ca = flags.caFile ? readFlagFile(flags.caFile, '--ca-file') : undefined;
    if (flags.tokenFile) token = readFlagFile(flags.tokenFile, '--token-file').toString('utf8').trim();
    if (flags.tlsCertFile && flags.tlsPrivateKeyFile && flags.clientCaFile) {
      credentials = ipamServerTlsCredentials({
        cert: readFlagFile(flags.tlsCertFile, '--tls-cert-file'),
        key: readFlagFile(flags.tlsPrivateKeyFile, '--tls-private-key-file'),
        ca: readFlagFile(flags.clientCaFile, '--client-ca-file'),
      });
    }
  } catch (err) {
    log.error({}, err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
    return;
  }
  const server = createIpamServer({
    ...(credentials ? { credentials, allowedClientNames: flags.allowedClientNames } : {}),
    dbPath: join(flags.dataDir, 'allocations'),
    serviceCIDRs: flags.serviceClusterIPRange,
    nodePortRange: flags.nodePortRange,
    loadBalancerCIDRs: flags.loadBalancerIPRange,
    log,
  });

  let loop: RepairLoop | null = null;
  let metrics: Server | null = null;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await loop?.close();
    if (metrics !== null) await new Promise((r) => metrics!.close(r));
    await server.close();
    log.info({}, 'stopped');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  let port: number;
  try {
    port = await server.listen(flags.listen);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = /address in use|EADDRINUSE|No address added/i.test(msg)
      ? `; is another process (another ipam?) already listening there? Stop it or pick another --listen address`
      : /EACCES|permission/i.test(msg)
        ? '; ports below 1024 need root or net.ipv4.ip_unprivileged_port_start=0, or pick another --listen port'
        : '';
    log.error({ listen: flags.listen }, `${msg}${hint}`);
    await server.close();
    process.exitCode = 1;
    return;
  }
  if (flags.metricsListen !== '') {
    try {
      metrics = await serveMetrics(ipamRegistry(server), flags.metricsListen);
    } catch (err) {
      log.error({ metricsListen: flags.metricsListen }, `cannot serve metrics on ${flags.metricsListen}: ${String(err)}; pick another --metrics-listen address`);
      await server.close();
      process.exitCode = 1;
      return;
    }
  }
  const host = flags.listen.slice(0, flags.listen.lastIndexOf(':'));
  const metricsAddress = metrics === null ? undefined : boundAddress(flags.metricsListen, metrics);
  log.info({ address: `${host}:${port}`, tls: credentials !== undefined, ...(metricsAddress ? { metrics: metricsAddress } : {}), ranges: server.ranges }, 'ready');

  if (flags.repairIntervalMs > 0 && flags.apiserver !== '' && !stopping) {
    loop = startRepairLoop(server, {
      apiserver: flags.apiserver,
      ...(token ? { token } : {}),
      ...(ca ? { ca } : {}),
      intervalMs: flags.repairIntervalMs,
      log,
    });
  }
}

function readFlagFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function boundAddress(requested: string, http: Server): string {
  const a = http.address();
  const host = requested.slice(0, requested.lastIndexOf(':'));
  return typeof a === 'object' && a !== null ? `${host}:${a.port}` : requested;
}

main().catch((err: unknown) => {
  const msg = err instanceof IpamError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  log.error({}, msg);
  process.exitCode = 1;
});
