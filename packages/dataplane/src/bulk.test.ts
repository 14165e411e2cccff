import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { startDataplaneChild } from './test-support/child.js';
import { engineOptions, tcpTest } from './test-support/engines.js';
import { tcpServer, until, vip } from './test-support/net.js';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;

tcpTest('256 MiB through the proxy arrive intact, with a slow reader and bounded proxy memory', async (t) => {
  const base = randomBytes(MiB);
  const sentHash = createHash('sha256');
  let sent = 0;
  let writerBlocked = false;
  const backend = await tcpServer((s) => {
    const pump = (): void => {
      while (sent < TOTAL) {
        // A distinct block each time, so reordering or repetition would change the hash.
        const block = Buffer.from(base);
        block.writeUInt32BE(sent / MiB, 0);
        sentHash.update(block);
        sent += block.length;
        if (!s.write(block)) {
          writerBlocked = true;
          s.once('drain', () => {
            writerBlocked = false;
            pump();
          });
          return;
        }
      }
      s.end();
    };
    pump();
  });
  t.teardown(() => backend.close());

  const proxy = await startDataplaneChild([
    { key: 'bulk', address: vip(), port: 0, protocol: 'TCP', backends: [backend.backend()] },
  ], engineOptions(t));
  t.teardown(() => proxy.stop());
  t.deepEqual(proxy.result.errors, []);
  const { address, port } = proxy.addresses[0]!;

  const gotHash = createHash('sha256');
  let received = 0;
  let ended = false;
  const client = connect({ host: address, port });
  t.teardown(() => client.destroy());
  client.on('error', () => {});
  client.on('data', (d: Buffer) => {
    gotHash.update(d);
    received += d.length;
  });
  client.on('end', () => (ended = true));

  // Stop reading early: with backpressure the backend must stall with most of the data unsent.
  await until(() => received > 0, 10_000, 'first bytes');
  client.pause();
  let lastSent = -1;
  await until(
    () => {
      const stalled = writerBlocked && sent === lastSent;
      lastSent = sent;
      return stalled || sent === TOTAL;
    },
    20_000,
    'the backend writer to stall',
  );
  const inFlight = sent - received;
  t.log(`in flight while paused: ${(inFlight / MiB).toFixed(1)} MiB`);
  t.true(inFlight < 64 * MiB, `${inFlight / MiB} MiB buffered between backend and paused client`);

  // Then read slowly: a short pause every 16 MiB.
  let nextPause = received + 16 * MiB;
  client.on('data', () => {
    if (received >= nextPause) {
      nextPause += 16 * MiB;
      client.pause();
      setTimeout(() => client.resume(), 5);
    }
  });
  client.resume();
  await until(() => ended, 60_000, 'end of stream');
  t.is(received, TOTAL);
  t.is(gotHash.digest('hex'), sentHash.digest('hex'));
  const peak = proxy.peakRss();
  t.log(`proxy peak RSS ${(peak / MiB).toFixed(1)} MiB`);
  t.true(peak < 160 * MiB, `proxy peak RSS ${peak / MiB} MiB`);
});
