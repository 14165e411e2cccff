// Prometheus metrics named as kube-apiserver's, on a registry of our own (several servers can
// share a process in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from '@knet/component/prom';

/** Seconds, for the object store's commits, their waits and its background syncs: a disk's range. */
const STORE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, resource and HTTP response code.',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb and resource.',
    labelNames: ['verb', 'resource'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Gauge of all active long-running apiserver requests (watches).',
    labelNames: ['verb'] as const,
    registers: [this.registry],
  });

  readonly storeCommits = new Histogram({
    name: 'knet_store_commit_duration_seconds',
    help: 'Duration of the object store write of one group commit (with --fsync always the disk part of write latency, as etcd_disk_wal_fsync_duration_seconds).',
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });

  readonly storeCommitWaits = new Histogram({
    name: 'knet_store_commit_wait_seconds',
    help: 'How long the oldest write of a group commit waited for it to start (behind the commit before it, or a busy event loop).',
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });

  readonly storeSyncs = new Histogram({
    name: 'knet_store_background_sync_duration_seconds',
    help: 'Duration of the background sync to disk of the writes acknowledged in the last interval (--fsync interval).',
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
