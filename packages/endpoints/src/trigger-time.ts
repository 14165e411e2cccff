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
  const ms = t.getTime();
  // The Endpoints and every slice of a sync carry the same time: format it once.
  if (ms === lastFormatted.ms) return lastFormatted.text;
  const iso = t.toISOString();
  // toISOString ends in ".sssZ": drop the fraction's trailing zeros, and the dot when nothing is left.
  const dot = iso.length - 5;
  let end = iso.length - 1;
  while (end > dot + 1 && iso.charCodeAt(end - 1) === 48) end--;
  if (end === dot + 1) end = dot;
  const text = `${iso.slice(0, end)}Z`;
  lastFormatted = { ms, text };
  return text;
}

let lastFormatted = { ms: NaN, text: '' };
