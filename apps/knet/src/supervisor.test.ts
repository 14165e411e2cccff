import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor, type ComponentSpec } from './supervisor.js';
import { tcpReady } from './probe.js';
import { waitFor } from '@knet/component/testing';

// A component that listens on a port of its choosing and writes the port to a file.
const server = `
const net = require('node:net');
const s = net.createServer((c) => { c.on('error', () => {}); c.end('hi'); }).listen(0, '127.0.0.1', () => {
  require('node:fs').writeFileSync(process.argv[1], String(s.address().port));
  console.log('listening');
});
process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
`;

function component(name: string, dir: string): ComponentSpec {
  const portFile = join(dir, `${name}.port`);
  return {
    name,
    address: portFile,
    command: process.execPath,
    args: ['-e', server, portFile],
    ready: async () => {
      const port = Number(readFileSync(portFile, 'utf8'));
      return tcpReady('127.0.0.1', port);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const until = (cond: () => boolean, ms = 10_000): Promise<void> => waitFor('the condition', cond, ms);

test('starts components in order, restarts one killed with SIGKILL, and stops them all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-sup-'));
  const sup = new Supervisor({ logDir: dir, backoff: { initialMs: 50, maxMs: 200 } });
  t.teardown(() => sup.stop());
  const order: string[] = [];
  sup.on('ready', (name: string) => order.push(name));

  await sup.start([component('a', dir), component('b', dir)]);
  t.deepEqual(order, ['a', 'b']);
  const [a, b] = sup.states();
  t.true(a.ready && b.ready, JSON.stringify(sup.states()));

  process.kill(a.pid!, 'SIGKILL');
  await until(() => sup.states()[0].restarts === 1 && sup.states()[0].ready);
  const restarted = sup.states()[0];
  t.not(restarted.pid, a.pid);
  t.is(restarted.lastExit, 'signal SIGKILL');

  const pids = sup.states().map((s) => s.pid!);
  await sup.stop();
  t.false(pids.some(alive));
  t.regex(readFileSync(join(dir, 'b.log'), 'utf8'), /listening\nbye/);
});

test('a component that exits before it is ready fails the start with a pointer to its log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-sup-'));
  const sup = new Supervisor({ logDir: dir });
  t.teardown(() => sup.stop());
  const broken: ComponentSpec = {
    name: 'broken',
    address: '-',
    command: process.execPath,
    args: ['-e', 'console.error("cannot bind"); process.exit(3)'],
    ready: async () => false,
  };
  const err = await t.throwsAsync(sup.start([broken]));
  t.regex(err!.message, /broken exited \(exit code 3\) before it was ready; see .*broken\.log/);
});

test('parallel start launches every component before any is ready', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-sup-'));
  const sup = new Supervisor({ logDir: dir });
  t.teardown(() => sup.stop());
  const started: string[] = [];
  sup.on('start', (name: string) => started.push(name));
  sup.on('ready', () => t.is(started.length, 3, 'all three were started before the first was ready'));
  await sup.start([component('x', dir), component('y', dir), component('z', dir)], { parallel: true });
  t.true(sup.states().every((s) => s.ready));
});

test('after holdRestarts a component that exits stays down and is not reported as restarting', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-sup-'));
  const sup = new Supervisor({ logDir: dir, backoff: { initialMs: 20, maxMs: 50 } });
  t.teardown(() => sup.stop());
  const exits: string[] = [];
  sup.on('exit', (name: string) => exits.push(name));
  await sup.start([component('a', dir)]);
  const { pid } = sup.states()[0]!;
  sup.holdRestarts();
  process.kill(pid!, 'SIGTERM');
  await until(() => !alive(pid!) && sup.states()[0]!.pid === undefined);
  // well past the 20 ms backoff: a restart would have happened by now
  await new Promise((r) => setTimeout(r, 200));
  t.is(sup.states()[0]!.restarts, 0);
  t.is(sup.states()[0]!.pid, undefined);
  t.deepEqual(exits, []);
});
