// prom-client's Registry, Counter, Gauge, Histogram and default metrics without prom-client's index. The
// index also loads the Pushgateway (node:http, node:https, node:zlib), cluster aggregation (node:cluster),
// Summary (tdigest) and, for the exemplars of its process-CPU metric, @opentelemetry/api (51 modules):
// measured ~1.7 MiB RSS more in every component, for nothing a component uses. These are prom-client's
// internal files (the same module instances its index loads): check this module on every prom-client
// upgrade (its test compares the default metrics with prom-client's own).
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const require = createRequire(import.meta.url);
const lib = (file: string): unknown => require(`prom-client/lib/${file}.js`);

export const Registry = lib('registry') as typeof Prom.Registry;
export type Registry<T extends Prom.RegistryContentType = Prom.PrometheusContentType> = Prom.Registry<T>;
export const Counter = lib('counter') as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = lib('gauge') as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram = lib('histogram') as typeof Prom.Histogram;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export type { MetricObjectWithValues, MetricValueWithName } from 'prom-client';

type Config = Prom.DefaultMetricsCollectorConfiguration<Prom.RegistryContentType>;
type DefaultMetric = (registry: Config['register'], config: Config) => void;

/** prom-client's default metrics but its process-CPU one (below): the same list, order and names. */
const promDefaults = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  ...(typeof process.getActiveResourcesInfo === 'function' ? ['processResources'] : []),
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
].map((name) => lib(`metrics/${name}`) as DefaultMetric);

/** process_cpu_{user,system,}_seconds_total as prom-client's processCpuTotal writes them, without its exemplars. */
function processCpuTotal(registry: Config['register'], config: Config): void {
  const registers = registry ? [registry] : undefined;
  const prefix = config.prefix ?? '';
  const labels = (config.labels ?? {}) as Record<string, string>;
  const labelNames = Object.keys(labels);
  let last = process.cpuUsage();
  const user = new Counter({
    name: `${prefix}process_cpu_user_seconds_total`,
    help: 'Total user CPU time spent in seconds.',
    registers,
    labelNames,
    // One metric's collect sets all three.
    collect() {
      const now = process.cpuUsage();
      const userMicros = now.user - last.user;
      const systemMicros = now.system - last.system;
      last = now;
      user.inc(labels, userMicros / 1e6);
      system.inc(labels, systemMicros / 1e6);
      total.inc(labels, (userMicros + systemMicros) / 1e6);
    },
  });
  const system = new Counter({ name: `${prefix}process_cpu_system_seconds_total`, help: 'Total system CPU time spent in seconds.', registers, labelNames });
  const total = new Counter({ name: `${prefix}process_cpu_seconds_total`, help: 'Total user and system CPU time spent in seconds.', registers, labelNames });
}

/** prom-client's collectDefaultMetrics (exemplars aside). */
export function collectDefaultMetrics<T extends Prom.RegistryContentType>(config: Prom.DefaultMetricsCollectorConfiguration<T> = {}): void {
  const c = { eventLoopMonitoringPrecision: 10, ...config } as Config;
  processCpuTotal(c.register, c);
  for (const metric of promDefaults) metric(c.register, c);
}
