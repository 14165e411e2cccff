// Runs inside `unshare --net` (a network namespace of its own, created by the test): a bridge device as the
// --vip-interface, VipInterface adds a VIP that no interface had, a server binds and answers on it, then the VIP
// is removed and binding fails again. Prints one JSON line with what it saw.
import { execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { VipInterface } from '../vip-interface.js';

const VIP = '198.51.100.10'; // TEST-NET-2, only inside this namespace
const VIP2 = '198.51.100.11';
const dev = 'knetvip0';
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('ip', ['link', 'add', dev, 'type', 'bridge']);
execFileSync('ip', ['link', 'set', dev, 'up']);

const tryBind = (): Promise<string> =>
  new Promise((resolve) => {
    const s = createServer((c) => c.end('hello'));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.listen(0, VIP, () => {
      const port = (s.address() as { port: number }).port;
      const c = connect(port, VIP);
      let got = '';
      c.on('data', (d) => (got += d));
      c.on('end', () => s.close(() => resolve(`bound, answered ${got}`)));
    });
  });

const log = { info() {}, warn: (o: object, m?: string) => console.error(m, o) };
const vip = new VipInterface(dev, log);
const before = await tryBind();
await vip.sync(new Set([VIP, VIP2]));
const added = execFileSync('ip', ['-o', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
const during = await tryBind();
await vip.sync(new Set());
const removed = execFileSync('ip', ['-o', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
const after = await tryBind();
console.log(JSON.stringify({ before, added: added.includes(`${VIP}/32`) && added.includes(`${VIP2}/32`), during, removed: !removed.includes(VIP) && !removed.includes(VIP2), after }));
