// Throws 100,000 random and mutated datagrams at a live server (UDP, in-process),
// checks every reply it sent is a well-formed response, then that it still answers.
import test from 'ava';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { RecordType } from 'dns-packet';
import { ClusterZone } from './zone.js';
import { clusterIPService, headlessService, slice } from './fixtures.test-util.js';
import { encodeQuery, startServer, tcpExchange } from './net.test-util.js';
import { seededRandom } from '@knet/component/testing';

const TOTAL = 100_000;
const BATCH = 250;

function corpus(): Buffer[] {
  const names = ['web.default.svc.cluster.local', '_http._tcp.web.default.svc.cluster.local', 'cass.prod.svc.cluster.local', 'cluster.local', '5.0.96.127.in-addr.arpa', 'example.com', '127-244-0-1.prod.pod.cluster.local', 'dns-version.cluster.local'];
  const types: RecordType[] = ['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'SOA', 'NS', 'CNAME', 'MX'];
  const out: Buffer[] = [];
  for (const n of names) for (const ty of types) {
    out.push(encodeQuery(n, ty, { id: 1 }));
    out.push(encodeQuery(n, ty, { id: 2, udpPayloadSize: 4096 }));
  }
  // Hand-made: a compression pointer in the question, and a pointer loop.
  const ptr = Buffer.from(encodeQuery('a.b', 'A'));
  out.push(Buffer.concat([ptr.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]));
  return out;
}

function mutate(rand: () => number, seeds: Buffer[]): Buffer {
  const pick = (n: number): number => Math.floor(rand() * n);
  const kind = pick(10);
  if (kind === 0) {
    const b = Buffer.alloc(pick(600));
    for (let i = 0; i < b.length; i++) b[i] = pick(256);
    return b;
  }
  let b = Buffer.from(seeds[pick(seeds.length)]!);
  const rounds = 1 + pick(6);
  for (let r = 0; r < rounds; r++) {
    const op = pick(7);
    if (op === 0 && b.length) b[pick(b.length)] ^= 1 << pick(8);
    else if (op === 1 && b.length) b[pick(b.length)] = pick(256);
    else if (op === 2) b = b.subarray(0, pick(b.length + 1));
    else if (op === 3) b = Buffer.concat([b, Buffer.from(Array.from({ length: pick(64) }, () => pick(256)))]);
    else if (op === 4 && b.length >= 12) b.writeUInt16BE(pick(65536), 4 + 2 * pick(4));
    else if (op === 5 && b.length >= 4) b.writeUInt16BE(pick(65536), 2);
    else if (op === 6 && b.length > 13) b[12 + pick(b.length - 12)] = [0xc0, 0x3f, 0x40, 0x00, 0xff][pick(5)]!;
  }
  return b;
}

test('fuzz: 100,000 random and mutated packets, then correct answers', async (t) => {
  t.timeout(300_000);
  const z = new ClusterZone();
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5'], [{ name: 'http', port: 80 }]));
  z.upsertService(headlessService('prod', 'cass', [{ name: 'cql', port: 9042 }]));
  z.upsertEndpointSlice(slice('prod', 'cass-a', 'cass', [{ ip: '127.244.0.1', hostname: 'c0' }], [{ name: 'cql', port: 9042 }]));
  let handled = 0;
  const { udpPort, tcpPort } = await startServer(t, { zone: z, forward: false, onQuery: () => handled++ });

  // Replay a failure with DNS_FUZZ_SEED=<seed from the log>.
  const seed = Number(process.env.DNS_FUZZ_SEED ?? Date.now()) >>> 0;
  t.log(`seed ${seed}`);
  const rand = seededRandom(seed);
  const seeds = corpus();
  const client = dgram.createSocket('udp4');
  t.teardown(() => client.close());
  await new Promise<void>((r) => client.connect(udpPort, '127.0.0.1', () => r()));

  let replies = 0;
  let malformedReplies = 0;
  let barrierId = -1;
  let barrierRetries = 0;
  let barrierMs = 0;
  let barrierOk: (() => void) | null = null;
  client.on('message', (m) => {
    replies++;
    try {
      const p = dnsPacket.decode(m);
      if (p.type !== 'response') malformedReplies++;
      if (barrierOk && p.id === barrierId && p.questions?.[0]?.name === 'barrier.default.svc.cluster.local') barrierOk();
    } catch {
      malformedReplies++;
    }
  });
  const send = (b: Buffer): Promise<void> => new Promise((r) => client.send(b, () => r()));
  // libuv reads at most 32 datagrams per loop turn: yield often so the server (same process) keeps up.
  const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
  // A valid query after each batch: once it is answered the server has worked through the batch.
  const barrier = async (id: number): Promise<void> => {
    barrierId = id;
    for (let tries = 0; tries < 20; tries++) {
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 500);
        barrierOk = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      await send(encodeQuery('barrier.default.svc.cluster.local', 'A', { id }));
      if (await answered) return;
      barrierRetries++;
    }
    throw new Error('server stopped answering');
  };

  for (let sent = 0, batch = 0; sent < TOTAL; batch++) {
    for (let i = 0; i < BATCH && sent < TOTAL; i++, sent++) {
      client.send(mutate(rand, seeds));
      if (i % 16 === 15) await yieldToLoop();
    }
    const b0 = Date.now();
    await barrier(batch & 0xffff);
    barrierMs += Date.now() - b0;
  }
  t.log(`replies ${replies}, handled ${handled}, barrier retries ${barrierRetries}, ${barrierMs} ms in barriers`);
  t.is(malformedReplies, 0);
  t.true(replies > 0);
  t.true(handled > TOTAL / 2, `server handled only ${handled} messages`);

  // Still answering correctly, on both transports.
  const r = await new Promise<Buffer>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('message', (m) => {
      s.close();
      resolve(m);
    });
    s.send(encodeQuery('web.default.svc.cluster.local', 'A'), udpPort, '127.0.0.1');
  });
  t.like(dnsPacket.decode(r).answers?.[0], { name: 'web.default.svc.cluster.local', type: 'A', data: '127.96.0.5' });
  const [tcp] = await tcpExchange(tcpPort, [encodeQuery('_cql._tcp.cass.prod.svc.cluster.local', 'SRV')]);
  t.like(dnsPacket.decode(tcp!).answers?.[0], { type: 'SRV', data: { port: 9042, target: 'c0.cass.prod.svc.cluster.local' } });
});

test('fuzz: random bytes on TCP connections never break the server', async (t) => {
  const z = new ClusterZone();
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5']));
  const { tcpPort } = await startServer(t, { zone: z, forward: false, tcpIdleTimeoutMs: 200 });
  const rand = seededRandom(7);
  const net = await import('node:net');
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: tcpPort });
      c.on('error', () => resolve());
      c.on('close', () => resolve());
      c.on('connect', () => {
        const b = Buffer.alloc(Math.floor(rand() * 300));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
        c.end(b);
      });
      c.on('data', () => undefined);
    });
  }
  const [reply] = await tcpExchange(tcpPort, [encodeQuery('web.default.svc.cluster.local', 'A')]);
  t.like(dnsPacket.decode(reply!).answers?.[0], { type: 'A', data: '127.96.0.5' });
});
