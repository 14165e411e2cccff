// Idle connections for bench:dataplane, in their own process (it needs as many file descriptors as connections):
// opens argv[4] TCP connections to argv[2]:argv[3], spread over the source addresses in argv[5] (comma-separated,
// so ephemeral ports never run short), prints one JSON line {open, errors} once every attempt has settled, and
// holds them without sending a byte until SIGTERM.
import { connect, type Socket } from 'node:net';
import { runConcurrently } from './results.js';

const [host, port, count, sources] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), (process.argv[5] ?? '127.0.0.1').split(',')];
const sockets: Socket[] = [];
let errors = 0;
let firstError = '';
await runConcurrently(count, 256, (i) =>
  new Promise<void>((resolve) => {
    const s = connect({ host, port, localAddress: sources[i % sources.length] });
    s.once('connect', () => {
      sockets.push(s);
      resolve();
    });
    s.once('error', (err) => {
      errors++;
      firstError ||= err.message;
      resolve();
    });
  }),
);
for (const s of sockets) s.on('error', () => {});
process.stdout.write(JSON.stringify({ open: sockets.length, errors, firstError }) + '\n');
process.once('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
