// Prometheus metrics with kube-proxy's names, plus per-service counters read from the data plane's stats.
import type { ServiceStats } from '@knet/dataplane';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ProxyMetrics {
  registry: Registry;
  syncDuration: Histogram;
  programmingDuration: Histogram;
  lastSync: Gauge;
  lastQueued: Gauge;
  /** A change was queued now: read by lastQueued at scrape time (a gauge set per informer event costs at 10,000 Services). */
  queued(): void;
  bindErrors: Gauge;
}

const serviceLabels = ['namespace', 'service', 'port', 'kind', 'protocol', 'address'] as const;

/** `stats` is read at scrape time; counters of a listener that closed disappear with it. */
export function proxyMetrics(stats: () => Map<string, ServiceStats>): ProxyMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Buckets as kube-proxy's: exponential from 1 ms.
  const syncDuration = new Histogram({
    name: 'kubeproxy_sync_proxy_rules_duration_seconds',
    help: 'SyncProxyRules latency in seconds',
    buckets: Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i),
    registers: [registry],
  });
  const programmingDuration = new Histogram({
    name: 'kubeproxy_network_programming_duration_seconds',
    help: 'In-cluster network programming latency in seconds (from the endpoints.kubernetes.io/last-change-trigger-time annotation)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30, 60, 120, 300],
    registers: [registry],
  });
  const lastSync = new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers: [registry] });
  let queuedAt: number | undefined;
  const lastQueued = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
    help: 'The last time a sync of proxy rules was queued',
    registers: [registry],
    collect() {
      if (queuedAt !== undefined) this.set(queuedAt / 1000);
    },
  });
  const bindErrors = new Gauge({ name: 'knet_proxy_bind_errors', help: 'Table entries the last sync could not bind (address in use, privileged port, ...)', registers: [registry] });

  const perService = <K extends keyof ServiceStats>(name: string, help: string, field: K, kind: 'counter' | 'gauge'): void => {
    const Metric = kind === 'counter' ? Counter : Gauge;
    new Metric({
      name,
      help,
      labelNames: serviceLabels,
      registers: [registry],
      collect(this: Counter | Gauge) {
        this.reset();
        for (const s of stats().values()) {
          const labels = {
            namespace: s.labels.namespace ?? '',
            service: s.labels.service ?? '',
            port: s.labels.port ?? '',
            kind: s.labels.kind ?? '',
            protocol: s.protocol,
            address: `${s.address}:${s.port}`,
          };
          const v = s[field] as number;
          if (this instanceof Gauge) this.set(labels, v);
          else this.inc(labels, v);
        }
      },
    });
  };
  perService('knet_proxy_service_connections_total', 'TCP connections accepted / UDP flows created', 'connections', 'counter');
  perService('knet_proxy_service_active_connections', 'TCP connections / UDP flows open now', 'active', 'gauge');
  perService('knet_proxy_service_bytes_in_total', 'Bytes from clients to backends', 'bytesIn', 'counter');
  perService('knet_proxy_service_bytes_out_total', 'Bytes from backends to clients', 'bytesOut', 'counter');
  perService('knet_proxy_service_failures_total', 'Connections or packets that got no backend', 'failures', 'counter');
  perService('knet_proxy_service_connect_errors_total', 'Backend connect attempts that failed', 'connectErrors', 'counter');
  perService('knet_proxy_service_udp_packets_total', 'UDP datagrams forwarded to backends', 'udpPackets', 'counter');
  const queued = (): void => {
    queuedAt = Date.now();
  };
  return { registry, syncDuration, programmingDuration, lastSync, lastQueued, queued, bindErrors };
}
