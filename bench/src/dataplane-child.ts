// knet's data plane in its own process, as the proxy runs it: reads a ServiceEntry[] table as JSON from
// argv[2], applies it, prints {"ready":true}, and serves until SIGTERM.
import { readFileSync } from 'node:fs';
import { Dataplane, type ServiceEntry } from '@knet/dataplane';

const table = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ServiceEntry[];
const dp = new Dataplane({ drainMs: 1000 });
const result = await dp.apply(table);
if (result.errors.length > 0) {
  process.stderr.write(JSON.stringify(result.errors) + '\n');
  process.exitCode = 1;
  await dp.close();
} else {
  process.stdout.write(JSON.stringify({ ready: true, tcpEngine: dp.tcpEngine, ioUring: dp.ioUring }) + '\n');
  process.once('SIGTERM', () => void dp.close());
}
