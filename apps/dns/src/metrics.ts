// Prometheus metrics under CoreDNS' names and labels (plugin/metrics), so CoreDNS dashboards and alerts work as is.
// Every query is counted, so the hot path only bumps plain numbers; prom-client reads them when scraped
// (its label hashing per inc/observe cost a third of the server's throughput in bench:dns).
import type { QueryInfo, QueryTally } from '@knet/dns';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValueWithName } from '@knet/component/prom';

/** The query types CoreDNS counts by name; everything else is "other". */
const MONITORED_TYPES = new Set(['A', 'AAAA', 'CNAME', 'DNSKEY', 'DS', 'MX', 'NSEC3', 'NSEC', 'NS', 'PTR', 'RRSIG', 'SOA', 'SRV', 'TXT', 'IXFR', 'AXFR', 'ANY', 'HTTPS']);

/** CoreDNS' plugin.TimeBuckets: prometheus.ExponentialBuckets(0.00025, 2, 16), 0.25 ms to ~8 s. */
export const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

export interface DnsMetricsOptions {
  /** "dns://127.0.0.1:10053", as CoreDNS spells its server label. */
  server: string;
  /** The server block's zone; "." as in the kube-dns Corefile (kubernetes and forward in one block). */
  zone?: string;
  /** '1' (IPv4) or '2' (IPv6): the family of the listening socket. */
  family: '1' | '2';
}

export interface ZoneStats {
  services: number;
  endpointSlices: number;
  pods: number;
  namespaces: number;
}

export interface DnsMetrics {
  registry: Registry;
  /** The server label once the bound port is known. */
  setServer(server: string): void;
  /** The wire server's onQuery hook. */
  record(info: QueryInfo): void;
  /** The wire server's onQueryTally hook (queries answered in C, in bulk, bucketed by the server's default bounds: TIME_BUCKETS). */
  recordTally(tally: QueryTally): void;
  /** CoreDNS' programming latency (headless Services with a selector): now minus the slice's last-change-trigger-time. */
  observeProgramming(seconds: number): void;
}

/** Which CoreDNS plugin would have written this response ("" when the server itself answered, e.g. FORMERR). */
export function pluginOf(info: Pick<QueryInfo, 'rcode' | 'forwarded' | 'cacheHit'>): string {
  if (info.forwarded) return info.cacheHit ? 'cache' : 'forward';
  if (info.rcode === 'FORMERR' || info.rcode === 'NOTIMP' || info.rcode === 'BADVERS' || info.rcode === 'REFUSED') return '';
  return 'kubernetes';
}

export function typeLabel(type: string): string {
  return MONITORED_TYPES.has(type) ? type : 'other';
}

/** Observations of one label set, bucketed as Prometheus histograms are (non-cumulative here). */
interface Tally {
  counts: Float64Array;
  sum: number;
  count: number;
}

function newTally(): Tally {
  return { counts: new Float64Array(TIME_BUCKETS.length + 1), sum: 0, count: 0 };
}

function bucketOf(seconds: number): number {
  let i = 0;
  while (i < TIME_BUCKETS.length && seconds > TIME_BUCKETS[i]!) i++;
  return i;
}

/** Counts by two labels. */
type Tallies = Map<string, Map<string, number>>;

function bump(t: Tallies, first: string, second: string, n = 1): void {
  let inner = t.get(first);
  if (inner === undefined) t.set(first, (inner = new Map()));
  inner.set(second, (inner.get(second) ?? 0) + n);
}

type DurationLabels = 'server' | 'zone' | 'view' | 'type';

/** A prom-client Histogram whose samples live in tallies kept by the caller. */
class TalliedHistogram extends Histogram<DurationLabels> {
  constructor(
    registry: Registry,
    private readonly tallies: Map<string, Tally>,
    private readonly labelsOf: (key: string) => Record<DurationLabels, string>,
  ) {
    super({
      name: 'coredns_dns_request_duration_seconds',
      help: 'Histogram of the time (in seconds) each request took per zone.',
      labelNames: ['server', 'zone', 'view', 'type'],
      buckets: TIME_BUCKETS,
      registers: [registry],
    });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<DurationLabels>>> {
    return this.getForPromString();
  }

  /** What prom-client's registry reads for the text exposition (Histogram's own reads its private map). */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<DurationLabels>>> {
    const name = 'coredns_dns_request_duration_seconds';
    const values: MetricValueWithName<DurationLabels>[] = [];
    for (const [key, t] of this.tallies) {
      const labels = this.labelsOf(key);
      let cumulative = 0;
      TIME_BUCKETS.forEach((le, i) => {
        cumulative += t.counts[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le } as never, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' } as never, value: t.count });
      values.push({ metricName: `${name}_sum`, labels, value: t.sum });
      values.push({ metricName: `${name}_count`, labels, value: t.count });
    }
    return { name, help: 'Histogram of the time (in seconds) each request took per zone.', type: 'histogram' as never, aggregator: 'sum', collect: () => undefined, values };
  }
}

export function createDnsMetrics(opts: DnsMetricsOptions, stats: () => ZoneStats): DnsMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const zone = opts.zone ?? '.';
  let server = opts.server;
  // Hot-path tallies, nested by label so that no key string is built per query: requests by proto then type,
  // responses by rcode then plugin, durations by type.
  const requestCounts: Tallies = new Map();
  const responseCounts: Tallies = new Map();
  const durations = new Map<string, Tally>();

  new Counter({
    name: 'coredns_dns_requests_total',
    help: 'Counter of DNS requests made per zone, protocol and family.',
    labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [proto, byType] of requestCounts) {
        for (const [type, n] of byType) this.inc({ server, zone, view: '', proto, family: opts.family, type }, n);
      }
    },
  });
  new Counter({
    name: 'coredns_dns_responses_total',
    help: 'Counter of response status codes.',
    labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [rcode, byPlugin] of responseCounts) {
        for (const [plugin, n] of byPlugin) this.inc({ server, zone, view: '', rcode, plugin }, n);
      }
    },
  });
  new TalliedHistogram(registry, durations, (type) => ({ server, zone, view: '', type }));
  const programming = new Histogram({
    name: 'coredns_kubernetes_dns_programming_duration_seconds',
    help: 'Histogram of the time (in seconds) it took to program a dns instance.',
    labelNames: ['service_kind'],
    // CoreDNS: prometheus.ExponentialBuckets(0.001, 2, 20)
    buckets: Array.from({ length: 20 }, (_, i) => 0.001 * 2 ** i),
    registers: [registry],
  });
  new Gauge({
    name: 'knet_dns_zone_objects',
    help: 'Objects indexed in the cluster zone, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const s = stats();
      this.set({ kind: 'services' }, s.services);
      this.set({ kind: 'endpointslices' }, s.endpointSlices);
      this.set({ kind: 'pods' }, s.pods);
      this.set({ kind: 'namespaces' }, s.namespaces);
    },
  });
  const durationTally = (type: string): Tally => {
    let t = durations.get(type);
    if (!t) durations.set(type, (t = newTally()));
    return t;
  };
  return {
    registry,
    setServer(s) {
      server = s;
    },
    record(info) {
      const type = typeLabel(info.type);
      bump(requestCounts, info.proto, type);
      bump(responseCounts, info.rcode, pluginOf(info));
      const t = durationTally(type);
      const seconds = info.durationMs / 1000;
      const b = bucketOf(seconds);
      t.counts[b] = (t.counts[b] ?? 0) + 1;
      t.sum += seconds;
      t.count++;
    },
    recordTally({ info, count, durationSumMs, bucketCounts }) {
      const type = typeLabel(info.type);
      bump(requestCounts, info.proto, type, count);
      bump(responseCounts, info.rcode, pluginOf(info), count);
      const t = durationTally(type);
      bucketCounts.forEach((n, b) => (t.counts[Math.min(b, TIME_BUCKETS.length)] += n));
      t.sum += durationSumMs / 1000;
      t.count += count;
    },
    observeProgramming(seconds) {
      programming.observe({ service_kind: 'headless_with_selector' }, seconds);
    },
  };
}
