// Backends for bench:dataplane, in their own process: small HTTP answers on 127.125.0.1-10 (and on a spare,
// 127.125.0.11, that no Service lists until a change moves one onto it), a 1 GiB stream per connection, a UDP echo, and a server that holds connections open without a byte (GET /held on an HTTP
// backend says how many it holds). Prints one JSON line with the ports, then serves until SIGTERM.
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { createServer as createTcp, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';

const HTTP_ADDRESSES = Array.from({ length: 10 }, (_, i) => `127.125.0.${i + 1}`);
const SPARE_ADDRESS = '127.125.0.11';
const BULK_BYTES = Number(process.env.BULK_BYTES ?? 2 ** 30);
const block = Buffer.alloc(2 ** 20, 0x6b);

const listen = (s: HttpServer | ReturnType<typeof createTcp>, host: string, port = 0) =>
  new Promise<number>((resolve) => s.listen({ host, port, backlog: 4096 }, () => resolve((s.address() as { port: number }).port)));

const body = Buffer.from('ok\n');
const servers: (HttpServer | ReturnType<typeof createTcp>)[] = [];
let httpPort = 0;
for (const host of [...HTTP_ADDRESSES, SPARE_ADDRESS]) {
  const s = createHttp({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.url === '/held') return void res.end(String(held.size));
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, 'x-backend': host });
    res.end(body);
  });
  httpPort = await listen(s, host, httpPort);
  servers.push(s);
}

const bulk = createTcp((s: Socket) => {
  s.on('error', () => {});
  let left = BULK_BYTES;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!s.write(n === block.length ? block : block.subarray(0, n))) return void s.once('drain', pump);
    }
    s.end();
  };
  pump();
});
const bulkPort = await listen(bulk, '127.125.0.1');
servers.push(bulk);

// Connections accepted and kept, silent, until the client closes them.
const held = new Set<Socket>();
const hold = createTcp((s: Socket) => {
  held.add(s);
  s.on('error', () => {});
  s.on('close', () => held.delete(s));
});
const holdPort = await listen(hold, '127.125.0.1');
servers.push(hold);

const udp = createSocket('udp4');
udp.on('message', (m, r) => udp.send(m, r.port, r.address));
await new Promise<void>((r) => udp.bind(0, '127.125.0.1', r));

process.stdout.write(JSON.stringify({ httpAddresses: HTTP_ADDRESSES, spareAddress: SPARE_ADDRESS, httpPort, bulkPort, holdPort, udpPort: udp.address().port }) + '\n');
process.once('SIGTERM', () => {
  for (const s of held) s.destroy();
  for (const s of servers) s.close();
  udp.close();
  setTimeout(() => process.exit(0), 200).unref();
});
