// The controller process: flags, client, informers, workers, healthz/metrics, signals.
// The endpoint computations live in @knet/endpoints; the sync loop in controller.ts.
import { CommanderError } from 'commander';
import { pino } from 'pino';
import { KubeClient, loadKubeconfig, type ClusterConfig } from '@knet/client';
import { readFileSync } from 'node:fs';
import type { IpamClient } from '@knet/ipam/client';
import { EndpointsController } from './controller.js';
import { parseFlags, type ControllerFlags } from './flags.js';
import { startHealthServer, type HealthServer } from './health.js';
import { createMetrics } from './metrics.js';

async function main(): Promise<void> {
  let flags: ControllerFlags;
  try {
    flags = parseFlags(process.argv);
  } catch (err) {
    // commander has printed the problem (or the help text) already.
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
  // Informers log with component "informer"; the controller's own lines carry "controller".
  const root = pino({ level: flags.logLevel });
  const log = root.child({ component: 'controller' });

  let cfg: ClusterConfig;
  try {
    cfg = flags.server ? { server: flags.server, token: flags.token } : await loadKubeconfig(flags.kubeconfig);
  } catch (err) {
    log.error({ err: String(err instanceof Error ? err.message : err) }, 'cannot load the kubeconfig; pass --kubeconfig PATH or --server URL');
    process.exitCode = 1;
    return;
  }
  const client = new KubeClient(cfg, { userAgent: 'knet-controller' });
  let ipam: IpamClient | undefined;
  let connectIpam: (() => Promise<IpamClient>) | undefined;
  try {
    const address = flags.ipam;
    if (address) {
      // The TLS files are read now, so a wrong path fails the start; gRPC is loaded on the first LoadBalancer
      // Service only (a third of the start-up time and ~5 MiB of the idle process).
      const tls = flags.ipamTls;
      const files = tls ? { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : undefined;
      connectIpam = async () => {
        if (stopping) throw new Error('the controller is shutting down');
        const { IpamClient, ipamClientTlsCredentials } = await import('@knet/ipam/client');
        ipam = new IpamClient(address, files ? { credentials: ipamClientTlsCredentials(files) } : {});
        return ipam;
      };
    }
  } catch (err) {
    log.error({ err: String(err instanceof Error ? err.message : err) }, 'cannot read the ipam TLS files');
    process.exitCode = 1;
    await client.close();
    return;
  }
  const metrics = createMetrics();
  const controller = new EndpointsController({
    client,
    ipam: connectIpam,
    log,
    informerLog: root,
    metrics,
    concurrentSyncs: flags.concurrentSyncs,
    maxEndpointsPerSlice: flags.maxEndpointsPerSlice,
    batchPeriodMs: flags.batchPeriodMs,
    traceSyncs: root.isLevelEnabled('debug'),
  });

  let health: HealthServer | undefined;
  if (flags.healthzPort !== 0) {
    try {
      health = await startHealthServer({ host: flags.healthzBindAddress, port: flags.healthzPort, registry: metrics.registry, healthy: () => controller.hasSynced() });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const hint = code === 'EADDRINUSE' ? 'another process listens there; pick another --healthz-port (0 turns it off)' : code === 'EACCES' ? 'ports below 1024 need privileges; pick another --healthz-port' : '';
      log.error({ err: String(err), port: flags.healthzPort, hint }, 'cannot serve /healthz');
      await client.close();
      ipam?.close();
      process.exitCode = 1;
      return;
    }
  }

  const abort = new AbortController();
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    abort.abort();
    await controller.stop();
    await health?.close();
    ipam?.close();
    await client.close();
    log.info({}, 'stopped');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  controller.start();
  try {
    await controller.waitForSync(abort.signal);
  } catch (err) {
    if (stopping) return;
    throw err;
  }
  log.info({ server: cfg.server, ipam: flags.ipam, healthzPort: health?.port }, 'ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`controller: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
