// Graceful deletion of Pods, as kube-apiserver does it: a DELETE with a grace period marks a
// scheduled, still-running Pod terminating (deletionTimestamp) instead of removing it, so endpoints
// report it `terminating` while it drains. Its kubelet (`knet run`) removes it when the process is
// gone; the reaper removes what no kubelet finished once the grace period is over.
import type { KubeObject, Pod } from '@knet/api';
import type { ObjectStore } from './deps.js';
import { storeErrorReason } from './deps.js';

const PODS = 'pods';
const DEFAULT_GRACE_SECONDS = 30;

/** The grace period a DELETE gets: the request's, else the Pod's own, else 30 s. */
export function gracePeriodFor(pod: Pod, requested: number | undefined): number {
  return requested ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

/** Kubernetes deletes at once a Pod that never ran on a node or has already finished. */
export function deletesGracefully(pod: Pod, grace: number): boolean {
  const phase = pod.status?.phase;
  return grace > 0 && Boolean(pod.spec?.nodeName) && phase !== 'Succeeded' && phase !== 'Failed';
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Marks the Pod terminating; a second DELETE may only shorten the grace period, as in Kubernetes.
 * Returns the stored Pod.
 */
export async function markTerminating(store: ObjectStore, namespace: string, name: string, grace: number): Promise<KubeObject> {
  for (;;) {
    const pod = structuredClone(await store.get(PODS, namespace, name)) as Pod;
    const deadline = Date.now() + grace * 1000;
    const current = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : Infinity;
    if (deadline >= current) return pod;
    pod.metadata.deletionTimestamp = rfc3339(deadline);
    pod.metadata.deletionGracePeriodSeconds = grace;
    try {
      return await store.update(PODS, pod);
    } catch (err) {
      if (storeErrorReason(err) !== 'Conflict') throw err;
    }
  }
}

/** Removes terminating Pods whose grace period is over (the kubelet's final delete, when no kubelet does it). */
export class PodReaper {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private watcher?: { close(): void };

  constructor(
    private readonly store: ObjectStore,
    private readonly onError: (err: unknown, key: string) => void,
  ) {}

  async start(): Promise<void> {
    const listed = await this.store.list(PODS);
    for (const pod of listed.items) this.track(pod);
    this.watcher = this.store.watch(PODS, { resourceVersion: listed.resourceVersion }, (e) => {
      if (e.type === 'DELETED') this.untrack(e.object);
      else this.track(e.object);
    });
  }

  close(): void {
    this.watcher?.close();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private key(o: KubeObject): string {
    return `${o.metadata.namespace}/${o.metadata.name}`;
  }

  private untrack(o: KubeObject): void {
    clearTimeout(this.timers.get(this.key(o)));
    this.timers.delete(this.key(o));
  }

  private track(o: KubeObject): void {
    const at = o.metadata.deletionTimestamp;
    if (!at) return;
    this.untrack(o);
    const key = this.key(o);
    const { namespace, name, uid } = o.metadata;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.store.delete(PODS, namespace ?? '', name!, { uid }).catch((err) => {
        if (storeErrorReason(err) !== 'NotFound' && storeErrorReason(err) !== 'Conflict') this.onError(err, key);
      });
    }, Math.max(0, Date.parse(at) - Date.now()));
    timer.unref();
    this.timers.set(key, timer);
  }
}
