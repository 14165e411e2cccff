// Reading what Services hold from the Kubernetes API, and the periodic repair loop.
import type { KubeList, Service } from '@knet/api';
import { Agent, request } from '@knet/component/undici';
import { type Logger, silentLogger } from './logger.js';
import type { RepairOptions } from './repair.js';
import type { IpamServer, RepairReport } from './server.js';
import type { ServiceInUse } from './types.js';

/** One Agent for the calls without a CA (the default dispatcher lives in undici's index). */
let plainAgent: Agent | undefined;

/** What each Service holds: spec.clusterIPs, ports[].nodePort, status.loadBalancer.ingress[].ip. */
export function servicesInUse(services: readonly Service[]): ServiceInUse[] {
  return services.map((s) => {
    const spec = s.spec ?? {};
    const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    return {
      owner: `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`,
      clusterIPs: clusterIPs.filter((ip) => ip !== '' && ip !== 'None'),
      nodePorts: (spec.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p !== 0),
      loadBalancerIPs: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== ''),
    };
  });
}

export interface ApiServerOptions {
  /** e.g. 'http://127.0.0.1:6443'. */
  apiserver: string;
  token?: string;
  /** PEM CA bundle for an https apiserver. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/** Lists every Service in every namespace, following `continue` pages. */
export async function listServices(opts: ApiServerOptions, dispatcher?: Agent): Promise<Service[]> {
  const items: Service[] = [];
  let cont = '';
  do {
    const url = new URL('/api/v1/services', opts.apiserver);
    url.searchParams.set('limit', '500');
    if (cont !== '') url.searchParams.set('continue', cont);
    const res = await request(dispatcher ?? (plainAgent ??= new Agent()), {
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers: {
        accept: 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      throw new Error(`GET ${url.pathname} from ${opts.apiserver}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
    const list = JSON.parse(text) as KubeList<Service>;
    if (!Array.isArray(list.items)) throw new Error(`GET ${url.pathname}: response is not a ServiceList`);
    items.push(...list.items);
    cont = list.metadata?.continue ?? '';
  } while (cont !== '');
  return items;
}

export interface RepairLoopOptions extends ApiServerOptions, RepairOptions {
  intervalMs: number;
  /** Delay between attempts while the apiserver is not reachable yet. Default 1000. */
  retryMs?: number;
  log?: Logger;
  /** Called after each completed pass (for metrics and tests). */
  onPass?: (report: RepairReport) => void;
}

export interface RepairLoop {
  /** Runs one pass now; null when the Services could not be listed. */
  runOnce(): Promise<RepairReport | null>;
  close(): Promise<void>;
}

/**
 * Repairs at start (retrying quietly until the apiserver answers) and then
 * every intervalMs. A pass whose list fails changes nothing.
 */
export function startRepairLoop(server: Pick<IpamServer, 'repair'>, opts: RepairLoopOptions): RepairLoop {
  const log = opts.log ?? silentLogger;
  const dispatcher = opts.ca ? new Agent({ connect: { ca: opts.ca } }) : undefined;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let running: Promise<RepairReport | null> | null = null;
  let succeededOnce = false;
  let failures = 0;

  async function pass(): Promise<RepairReport | null> {
    let services: Service[];
    try {
      services = await listServices(opts, dispatcher);
    } catch (err) {
      failures++;
      // Before the first success the apiserver is most likely still starting: stay quiet for a while.
      if (succeededOnce || failures % 30 === 0) {
        log.warn({ apiserver: opts.apiserver, err: String(err) }, 'repair: cannot list Services; will retry');
      }
      return null;
    }
    failures = 0;
    succeededOnce = true;
    const report = await server.repair(servicesInUse(services), { leakThreshold: opts.leakThreshold });
    opts.onPass?.(report);
    return report;
  }

  function runOnce(): Promise<RepairReport | null> {
    running ??= pass()
      .catch((err: unknown) => {
        if (!closed) log.error({ err: String(err) }, 'repair pass failed');
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  function schedule(): void {
    if (closed) return;
    const delay = succeededOnce ? opts.intervalMs : (opts.retryMs ?? 1000);
    timer = setTimeout(() => {
      timer = null;
      void runOnce().then(schedule);
    }, delay);
  }

  void runOnce().then(schedule);

  return {
    runOnce,
    async close(): Promise<void> {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (running !== null) await running;
      await dispatcher?.close();
    },
  };
}
