// Prometheus metrics with kube-proxy's names, plus per-service counters read from the data plane's stats.
import type { ServiceStats } from '@knet/dataplane';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from '@knet/component/prom';

export interface ProxyMetrics {
  registry: Registry;
  syncDuration: Histogram;
  programmingDuration: Histogram;
  lastSync: Gauge;
  lastQueued: Gauge;
  /** A change was queued now: read by lastQueued at scrape time (a gauge set per informer event costs at 10,000 Services). */
  queued(): void;
  /** The per-listener series, in the Prometheus text format, to serve after the registry's. */
  serviceText(): string;
  bindErrors: Gauge;
}


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

  const queued = (): void => {
    queuedAt = Date.now();
  };
  return { registry, syncDuration, programmingDuration, lastSync, lastQueued, queued, bindErrors, serviceText: () => serviceMetricsText(stats()) };
}

/** The per-listener families: name, help, type, and the ServiceStats field they show. */
const serviceFamilies: [string, string, 'counter' | 'gauge', keyof ServiceStats][] = [
  ['knet_proxy_service_connections_total', 'TCP connections accepted / UDP flows created', 'counter', 'connections'],
  ['knet_proxy_service_active_connections', 'TCP connections / UDP flows open now', 'gauge', 'active'],
  ['knet_proxy_service_bytes_in_total', 'Bytes from clients to backends', 'counter', 'bytesIn'],
  ['knet_proxy_service_bytes_out_total', 'Bytes from backends to clients', 'counter', 'bytesOut'],
  ['knet_proxy_service_failures_total', 'Connections or packets that got no backend', 'counter', 'failures'],
  ['knet_proxy_service_connect_errors_total', 'Backend connect attempts that failed', 'counter', 'connectErrors'],
  ['knet_proxy_service_udp_packets_total', 'UDP datagrams forwarded to backends', 'counter', 'udpPackets'],
];

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
const labelValue = (v: string): string => (/[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v);

/**
 * Per-listener series (labels namespace, service, port, kind, protocol, address) as Prometheus text. Written by
 * hand, not with prom-client metrics: at 10,000 listeners their collect() (reset, then one labelled inc per series,
 * 70,000 series) took ~700 ms of CPU and ~100 MB per scrape, with the data plane's event loop blocked all along.
 */
export function serviceMetricsText(stats: ReadonlyMap<string, ServiceStats>): string {
  const labels: string[] = [];
  const values: ServiceStats[] = [];
  for (const s of stats.values()) {
    const l = s.labels;
    labels.push(
      `{namespace="${labelValue(l.namespace ?? '')}",service="${labelValue(l.service ?? '')}",port="${labelValue(l.port ?? '')}",` +
        `kind="${labelValue(l.kind ?? '')}",protocol="${s.protocol}",address="${labelValue(`${s.address}:${s.port}`)}"}`,
    );
    values.push(s);
  }
  const out: string[] = [];
  for (const [name, help, type, field] of serviceFamilies) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (let i = 0; i < values.length; i++) out.push(`${name}${labels[i]!} ${values[i]![field] as number}`);
  }
  return out.join('\n') + '\n';
}
