// 1,000 raw watch streams across a kill -9 of the apiserver: each resumes from the last
// resourceVersion it saw, and each sees the whole known sequence of changes — in order, no gap, no
// duplicate.
import test from 'ava';
import { Agent, request } from 'undici';
import { startCluster, type TestCluster } from '@knet/knet-app/testing';
import { apiRequest, restarts, until } from './harness.js';

const WATCHERS = 1000;
/** Changes written: creates, and merge patches of what was created, half before the kill and half after. */
const CHANGES = 300;
const NS = 'watched';
const SEQ = 'knet.test/seq';
/** EndpointSlices of no Service: nobody but this test writes them (the controller leaves them alone). */
const COLLECTION = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;

interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> }; code?: number; message?: string };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One client-go style watcher: on a broken stream it re-watches from the last resourceVersion it saw. */
class Watcher {
  readonly seqs: number[] = [];
  readonly problems: string[] = [];
  connected = false;
  streams = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    private readonly cluster: TestCluster,
    private readonly agent: Agent,
    private rv: string,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const path = `${COLLECTION}?watch=1&allowWatchBookmarks=true&resourceVersion=${this.rv}`;
        const res = await request(`${this.cluster.apiserver}${path}`, {
          dispatcher: this.agent,
          headers: this.cluster.authHeaders,
          signal: this.abort.signal,
          headersTimeout: 30_000,
          bodyTimeout: 0,
        });
        if (res.statusCode !== 200) {
          const text = await res.body.text();
          // While the new apiserver starts it may not serve yet; anything else is a problem.
          if (res.statusCode !== 503) this.problems.push(`watch from ${this.rv}: ${res.statusCode} ${text}`);
        } else {
          this.connected = true;
          this.streams++;
          let buf = '';
          const decoder = new TextDecoder();
          for await (const chunk of res.body) {
            buf += decoder.decode(chunk as Buffer, { stream: true });
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) this.event(JSON.parse(line) as WatchEvent);
            }
          }
        }
      } catch {
        // the apiserver went away (or we stopped): re-watch
      }
      if (!this.stopped) await delay(50 + Math.random() * 450);
    }
  }

  private event(e: WatchEvent): void {
    if (e.type === 'ERROR') {
      this.problems.push(`ERROR event after ${this.rv}: ${e.object.code} ${e.object.message}`);
      return;
    }
    if (e.object.metadata?.resourceVersion) this.rv = e.object.metadata.resourceVersion;
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.seqs.push(Number(e.object.metadata?.annotations?.[SEQ]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.done;
  }
}

/** Change i: create e-i, or (every third) merge-patch e-(i-2). Both carry i; a retried change is a no-op. */
async function change(cluster: TestCluster, i: number): Promise<boolean> {
  const annotations = { [SEQ]: String(i) };
  const r =
    i % 3 === 2
      ? await apiRequest(cluster, 'PATCH', `${COLLECTION}/e-${i - 2}`, { metadata: { annotations } }, 'application/merge-patch+json')
      : await apiRequest(cluster, 'POST', COLLECTION, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `e-${i}`, annotations },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['127.244.251.1'], conditions: { ready: true } }],
        ports: [{ port: 80, protocol: 'TCP' }],
      });
  // 409 AlreadyExists: an earlier attempt was stored, though its answer was lost with the apiserver.
  if (r.status === 200 || r.status === 201 || (r.status === 409 && (r.body as { reason?: string }).reason === 'AlreadyExists')) return true;
  if (r.status < 500) throw new Error(`change ${i}: ${r.status} ${r.text}`);
  return false;
}

test('apiserver kill -9 with 1,000 watchers: every one resumes and sees every change once, in order', async (t) => {
  t.timeout(240_000);
  const cluster = await startCluster();
  const agent = new Agent({ connect: cluster.connect });
  const watchers: Watcher[] = [];
  t.teardown(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await agent.close();
    await cluster.stop();
  });

  const ns = await apiRequest(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  t.is(ns.status, 201, ns.text);
  const list = await apiRequest(cluster, 'GET', COLLECTION);
  const rv0 = (list.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  for (let i = 0; i < WATCHERS; i++) watchers.push(new Watcher(cluster, agent, rv0));
  await until(async () => (watchers.every((w) => w.connected) ? true : undefined), `${WATCHERS} watches open`, 60_000);

  const apiserver = cluster.pid('apiserver')!;
  for (let i = 0; i < CHANGES; i++) {
    if (i === CHANGES / 2) process.kill(apiserver, 'SIGKILL');
    await until(async () => ((await change(cluster, i)) ? true : undefined), `change ${i} stored`, 60_000);
  }
  t.not(cluster.pid('apiserver'), apiserver);
  t.is(restarts(cluster, 'apiserver'), 1);

  await until(
    async () => (watchers.every((w) => w.seqs.length >= CHANGES || w.problems.length > 0) ? true : undefined),
    `every watcher to see ${CHANGES} changes`,
    120_000,
  );
  const expected = Array.from({ length: CHANGES }, (_, i) => i);
  const bad = watchers.filter((w) => w.problems.length > 0 || w.streams < 2 || JSON.stringify(w.seqs) !== JSON.stringify(expected));
  // One bad watcher in detail is enough to see what went wrong; the count says how many.
  const first = bad[0];
  if (first) {
    t.deepEqual(first.problems, [], `watcher ${watchers.indexOf(first)}`);
    t.true(first.streams >= 2, `watcher ${watchers.indexOf(first)} never re-watched`);
    t.deepEqual(first.seqs, expected, `watcher ${watchers.indexOf(first)}: out of order, a gap or a duplicate`);
  }
  t.is(bad.length, 0, `${bad.length} of ${WATCHERS} watchers missed, repeated or reordered a change`);
  t.log(`${WATCHERS} watchers each saw all ${CHANGES} changes in order; ${watchers.reduce((n, w) => n + w.streams, 0)} streams in all`);
});
