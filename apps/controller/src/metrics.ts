// Prometheus metrics of the controller, named after kube-controller-manager's where one exists.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from '@knet/component/prom';

export interface ControllerMetrics {
  registry: Registry;
  syncs: Counter<'result'>;
  syncDuration: Histogram;
  changes: Counter<'kind' | 'operation'>;
  queueDepth: Gauge;
  queueAdds: Counter;
  queueRetries: Counter;
  loadBalancerIPs: Counter<'operation'>;
}

export function createMetrics(registry = new Registry(), defaults = true): ControllerMetrics {
  if (defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    syncs: new Counter({ name: 'endpoint_slice_controller_syncs', help: 'Service syncs by result (success, stale, error)', labelNames: ['result'], registers: [registry] }),
    syncDuration: new Histogram({
      name: 'knet_controller_sync_duration_seconds',
      help: 'Time to sync one Service (Endpoints, EndpointSlices, mirroring, load balancer)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    changes: new Counter({ name: 'endpoint_slice_controller_changes', help: 'Objects written, by kind and operation', labelNames: ['kind', 'operation'], registers: [registry] }),
    queueDepth: new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in the Service work queue', registers: [registry] }),
    queueAdds: new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the Service work queue (after coalescing)', registers: [registry] }),
    queueRetries: new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited requeues', registers: [registry] }),
    loadBalancerIPs: new Counter({ name: 'knet_controller_load_balancer_ips', help: 'LoadBalancer IPs assigned and released', labelNames: ['operation'], registers: [registry] }),
  };
}
