// The proxy process: flags, client, health and metrics servers, signals. The loop is in proxier.ts.
import type { Server } from 'node:http';
import { CommanderError, InvalidArgumentError } from 'commander';
import { KubeClient, loadKubeconfig, type ClusterConfig } from '@knet/client';
import { pino } from 'pino';
import { parseFlags, type ProxyFlags } from './flags.js';
import { closeServer, healthzHandler, metricsHandler, serve } from './http-servers.js';
import { startCpuProfile } from './cpu-profile.js';
import { proxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { SyncHealth } from './sync-health.js';

// LOG_LEVEL=debug shows every sync (entries, listeners opened/updated/closed, seconds).
const log = pino({ base: { component: 'proxy' }, level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<void> {
  const stopProfile = startCpuProfile(process.env.KNET_CPU_PROFILE);
  let flags: ProxyFlags;
  try {
    flags = parseFlags(process.argv);
  } catch (err) {
    if (err instanceof InvalidArgumentError) console.error(`error: ${err.message}`);
    // commander has already printed its own problems (or the help text).
    process.exitCode = err instanceof CommanderError ? err.exitCode : 2;
    return;
  }

  let cluster: ClusterConfig;
  try {
    cluster = flags.master && !flags.kubeconfig ? { server: flags.master } : await loadKubeconfig(flags.kubeconfig);
    if (flags.master) cluster = { ...cluster, server: flags.master };
  } catch (err) {
    log.error({ kubeconfig: flags.kubeconfig }, `cannot load kubeconfig: ${err instanceof Error ? err.message : String(err)}; pass --kubeconfig or --master`);
    process.exitCode = 1;
    return;
  }
  const client = new KubeClient(cluster, { userAgent: 'knet-proxy' });
  // kube-proxy's health timeout is twice the sync period.
  const health = new SyncHealth(2 * flags.syncPeriodMs);
  let proxier: Proxier | undefined;
  const metrics = proxyMetrics(() => proxier?.dataplane.stats() ?? new Map());
  proxier = new Proxier(client, {
    nodeName: flags.hostnameOverride,
    nodePortAddresses: flags.nodePortAddresses,
    minSyncPeriodMs: flags.minSyncPeriodMs,
    syncPeriodMs: flags.syncPeriodMs,
    ...(flags.vipInterface ? { vipInterface: flags.vipInterface } : {}),
    udpIdleMs: flags.udpIdleTimeoutMs,
    drainMs: flags.drainPeriodMs,
    log,
    metrics,
    health,
  });

  const servers: Server[] = [];
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await proxier?.close();
    await Promise.all(servers.map(closeServer));
    await client.close();
    stopProfile();
    log.info({}, 'stopped');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const bound: Record<string, string> = {};
  for (const [name, address, handler] of [
    ['healthz', flags.healthzBindAddress, healthzHandler(health)],
    ['metrics', flags.metricsBindAddress, metricsHandler(metrics.registry, metrics.serviceText)],
  ] as const) {
    if (address === '') continue;
    try {
      const s = await serve(address, handler);
      servers.push(s.server);
      bound[name] = s.address;
    } catch (err) {
      log.error({ [name]: address }, `cannot serve ${name} on ${address}: ${String(err)}; is another proxy running? pick another --${name}-bind-address (port 0 picks a free one, "" turns it off)`);
      await stop('bind failure');
      process.exitCode = 1;
      return;
    }
  }
  log.info({ node: flags.hostnameOverride, apiserver: cluster.server, ...bound }, 'starting; waiting for the first sync');
  let timing: { listMs: number; firstSyncMs: number };
  try {
    timing = await proxier.start();
  } catch (err) {
    if (stopping) return; // stopped before the informers synced
    throw err;
  }
  if (stopping) return;
  log.info({ node: flags.hostnameOverride, ...bound, entries: proxier.dataplane.size, tcpEngine: proxier.dataplane.tcpEngine, ioUring: proxier.dataplane.ioUring, ...timing }, 'ready');
}

main().catch((err: unknown) => {
  log.error({}, err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
