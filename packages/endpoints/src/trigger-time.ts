// The value of the endpoints.kubernetes.io/last-change-trigger-time annotation
// (kube-controller-manager's TriggerTimeTracker): the earliest of the Pod Ready
// transitions and the Service creation that changed since the previous sync of that
// Service. Consumers (kube-proxy's network-programming latency) measure from it.
import type { Pod, Service } from '@knet/api';
import { podTriggerTime } from './pod.js';

interface ServiceState {
  podTimes: Map<string, number>;
  serviceTime: number | undefined;
}

export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>();

  /**
   * Records the trigger times seen for this Service and returns the time to publish,
   * or undefined when nothing new triggered this sync (the annotation is then removed).
   * Call it on every sync, also when the sync turns out to write nothing.
   */
  compute(svc: Service, pods: Pod[]): Date | undefined {
    const key = `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
    const prev = this.states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (t === undefined) continue;
      const name = pod.metadata.name ?? '';
      podTimes.set(name, t);
      if (t > (prev?.podTimes.get(name) ?? -Infinity)) min = min === undefined ? t : Math.min(min, t);
    }
    const created = svc.metadata.creationTimestamp ? Date.parse(svc.metadata.creationTimestamp) : NaN;
    const serviceTime = Number.isNaN(created) ? undefined : created;
    if (serviceTime !== undefined && serviceTime > (prev?.serviceTime ?? -Infinity)) {
      min = min === undefined ? serviceTime : Math.min(min, serviceTime);
    }
    this.states.set(key, { podTimes, serviceTime });
    if (!prev) return serviceTime === undefined ? undefined : new Date(serviceTime);
    return min === undefined ? undefined : new Date(min);
  }

  delete(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/** RFC 3339 with nanoseconds as Go prints time.RFC3339Nano in UTC (trailing zeros dropped). */
export function formatTriggerTime(t: Date): string {
  // toISOString ends in ".sssZ": the fraction's trailing zeros go, and the dot when nothing is left.
  return t.toISOString().replace(/\.?0+Z$/, 'Z');
}
