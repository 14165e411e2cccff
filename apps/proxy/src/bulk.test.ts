// 1 GiB through the real proxy process to a slow reader: intact (sha256) and with bounded proxy memory.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { startCluster, type TestCluster } from '@knet/knet-app/testing';
import { resources, type KubeClient } from '@knet/client';
import type { Service } from '@knet/api';
import { clusterProxy, createAll, kube, rssMiB, service, slicesFor, until } from './testing/support.js';

const RANGE = '127.121.9.0/24';
const TOTAL = 1024 * 2 ** 20;
const CHUNK = randomBytes(2 ** 20);
/** Generous for a Node process plus socket buffers; unbounded buffering of 1 GiB would be far above. */
const MAX_RSS_MIB = 200;

let cluster: TestCluster;
let client: KubeClient;
let proxy: Awaited<ReturnType<typeof clusterProxy>>;
const cleanups: (() => Promise<void>)[] = [];

test.before(async () => {
  cluster = await startCluster({ args: ['--service-cluster-ip-range', RANGE] });
  cleanups.push(() => cluster.stop());
  client = await kube(cluster.kubeconfig);
  cleanups.push(() => client.close());
  proxy = await clusterProxy(cluster);
});

test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('1 GiB to a slow reader arrives intact and the proxy RSS stays bounded', async (t) => {
  // The backend writes 1 GiB (1 MiB blocks, honouring backpressure) and half-closes.
  // Every connection gets the same stream (the readiness probe's too), so the expected digest is known.
  const sent = createHash('sha256');
  for (let i = 0; i < TOTAL / CHUNK.length; i++) sent.update(CHUNK);
  const backend = createServer((s: Socket) => {
    s.on('error', () => {}); // the probe hangs up early
    let left = TOTAL;
    const pump = (): void => {
      while (left > 0) {
        left -= CHUNK.length;
        if (!s.write(CHUNK)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => backend.close(() => r())));
  const port = (backend.address() as { port: number }).port;

  const svc = await client.create<Service>(resources.services, 'default', service('bulk', { ports: [{ name: 'data', port: 9000 }] }));
  await createAll(client, slicesFor('bulk', [{ port }], 'data'));
  const vip = svc.spec.clusterIP!;
  await until('VIP serves', () => probe(vip, 9000));

  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(proxy.pid()))), 100);
  t.teardown(() => clearInterval(sampler));

  const got = createHash('sha256');
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const s = connect(9000, vip);
    let sincePause = 0;
    s.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
      sincePause += d.length;
      // The slow reader: a 10 ms stall every 4 MiB, so the proxy must hold the backend back.
      if (sincePause >= 4 * 2 ** 20) {
        sincePause = 0;
        s.pause();
        setTimeout(() => s.resume(), 10);
      }
    });
    s.on('end', () => resolve());
    s.on('error', reject);
  });
  clearInterval(sampler);
  t.is(received, TOTAL);
  t.is(got.digest('hex'), sent.digest('hex'));
  t.true(peak > 0 && peak < MAX_RSS_MIB, `proxy RSS peaked at ${peak.toFixed(0)} MiB`);
  t.log(`proxy peak RSS during the transfer: ${peak.toFixed(0)} MiB`);
});

/** True once something accepts and serves on vip:port (a reset means no backend yet). */
function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('data', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}
